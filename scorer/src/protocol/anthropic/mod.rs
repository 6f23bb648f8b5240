//! Anthropic Messages (`POST /v1/messages`): request, response and stream halves.
