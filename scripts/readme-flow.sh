#!/usr/bin/env bash
# The README's curl flow, verbatim between the markers (test/http/server-process.test.ts checks
# that the README block and this section are identical, then runs this script against a started
# server). Start the server first:
#
#   SERVICE_API_KEYS=optix-dev-service-key-0123456789abcdef npm start
#
# then: bash scripts/readme-flow.sh   (OPTIX_URL/OPTIX_KEY override the defaults)
set -euo pipefail

# --- README flow begin ---
OPTIX_URL=${OPTIX_URL:-http://127.0.0.1:8080}
OPTIX_KEY=${OPTIX_KEY:-optix-dev-service-key-0123456789abcdef}

# 1. The login service creates a session for a user it has authenticated
LOGIN=$(curl -sS -X POST "$OPTIX_URL/v1/sessions" \
  -H "Authorization: Bearer $OPTIX_KEY" -H 'Content-Type: application/json' \
  -d '{"userId":"alice","ipAddress":"203.0.113.7","userAgent":"curl"}')
ACCESS=$(node -p 'JSON.parse(process.argv[1]).accessToken' "$LOGIN")
REFRESH=$(node -p 'JSON.parse(process.argv[1]).refreshToken' "$LOGIN")

# 2. The user lists their own sessions with their access token
curl -sS -w '\n' "$OPTIX_URL/v1/me/sessions" -H "Authorization: Bearer $ACCESS"

# 3. The app refreshes: a new pair, the old refresh token is spent
PAIR=$(curl -sS -X POST "$OPTIX_URL/v1/token/refresh" \
  -H 'Content-Type: application/json' -d "{\"refreshToken\":\"$REFRESH\"}")
ACCESS=$(node -p 'JSON.parse(process.argv[1]).accessToken' "$PAIR")
REFRESH=$(node -p 'JSON.parse(process.argv[1]).refreshToken' "$PAIR")

# 4. A resource server introspects the access token (RFC 7662): active
curl -sS -w '\n' -X POST "$OPTIX_URL/v1/introspect" -H "Authorization: Bearer $OPTIX_KEY" -d "token=$ACCESS"

# 5. The user logs out: the app revokes the refresh token (RFC 7009), which kills its whole family
curl -sS -w '\n' -X POST "$OPTIX_URL/v1/revoke" -d "token=$REFRESH&token_type_hint=refresh_token"

# 6. The access token of that family is now inactive
curl -sS -w '\n' -X POST "$OPTIX_URL/v1/introspect" -H "Authorization: Bearer $OPTIX_KEY" -d "token=$ACCESS"
# --- README flow end ---
