//! OpenAI Responses (`POST /v1/responses`): request, response and stream halves.
