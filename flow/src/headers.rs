//! Header names and other strings the filter shares with Envoy configs and clients.
//! All lower-case: Envoy stores header names lower-case.

/// Response header: catalog id of the model that served the request.
pub const MODEL: &str = "x-model-router-model";
/// Response header: provider name.
pub const PROVIDER: &str = "x-model-router-provider";
/// Response header: tier of the chosen model.
pub const TIER: &str = "x-model-router-tier";
/// Response header: the effective `prefer`.
pub const PREFER: &str = "x-model-router-prefer";
/// Response header: `tier`, `pinned` or `auto`.
pub const SELECTION: &str = "x-model-router-selection";
/// Response header: the model name the client sent, when the configuration routed it as
/// another (`model_aliases`).
pub const ALIAS: &str = "x-model-router-alias";
/// Response header: `context` or `capability` when the requested tier had no fitting model.
pub const ESCALATED: &str = "x-model-router-escalated";
/// Response header: the hosted tools a Responses request declared that the configuration
/// has left out (`responses.drop_tools`), comma-separated.
pub const DROPPED_TOOLS: &str = "x-model-router-dropped-tools";
/// Request headers carrying the client's own credentials or session: removed from every
/// routed request, so a client key or cookie never reaches a provider (the provider's key
/// comes from the gateway).
/// The configuration refuses each of them as a `client_header`.
pub const CLIENT_CREDENTIALS: [&str; 6] = model_router_scorer::config::CREDENTIAL_HEADERS;
/// Request headers a provider must not see besides credentials: `accept-encoding` (the router
/// reads each answer for its usage and translates native ones, so an answer must come
/// uncompressed: the router asks for `identity`; Envoy's compressor can still compress toward
/// the client), and those naming the client's address (its IP, a third party's to keep;
/// `user` or `safety_identifier` is what a provider asks for abuse reports): the standard
/// ones, and those CDNs and load balancers in front of a gateway set (Cloudflare's, Akamai's
/// and Cloudflare's `true-client-ip`, Fastly's, ingress-nginx's `x-original-forwarded-for`),
/// with the names of the gateway's own front (`x-forwarded-host`, `x-forwarded-port`, `via`).
/// And the controls some backends obey on any request: a method override
/// (`x-http-method-override` and its variants, a POST read as a GET or a DELETE) and Google's
/// system parameters (`x-server-timeout`: a client's one-second deadline made Gemini's 504s,
/// which count against its breaker for every client; `x-origin`, `x-referer`). And a browser's
/// `origin` and `referer`: Anthropic answers any request with an `origin` that has not opted in
/// with a 401, which opened its breaker for every client (a browser app's seven requests moved
/// everyone's coding tier off Claude). And W3C `baggage`, which tracing carries from service to
/// service with whatever a tenant put in it (`tenant=acme,user=alice@acme.com`), and
/// `grpc-timeout`, a deadline as Google's fronts may read it. `x-forwarded-proto`, which Envoy sets itself, stays:
/// without it Envoy found no route for any provider's cluster, a 404 `NR` on every request.
pub const NOT_FOR_PROVIDERS: [&str; 33] = [
    "accept-encoding",
    "origin",
    "referer",
    "forwarded",
    "forwarded-for",
    "x-forwarded",
    "x-forwarded-for",
    "x-forwarded-host",
    "x-forwarded-port",
    "x-forwarded-client-cert",
    "client-ip",
    "x-real-ip",
    "x-client-ip",
    "x-cluster-client-ip",
    "x-original-forwarded-for",
    "true-client-ip",
    "cf-connecting-ip",
    "cf-connecting-ipv6",
    "fastly-client-ip",
    "fly-client-ip",
    "x-nf-client-connection-ip",
    "x-proxyuser-ip",
    "x-coming-from",
    "cdn-loop",
    "via",
    "x-http-method-override",
    "x-http-method",
    "x-method-override",
    "x-server-timeout",
    "x-origin",
    "x-referer",
    "baggage",
    "grpc-timeout",
];
/// Response headers of a provider's that name the gateway's account with it, or set its
/// cookies (a CDN's in front of it): never passed on to a client. OpenAI's
/// `openai-organization` and `openai-project`, Anthropic's `anthropic-organization-id`, and a
/// provider's challenge to the gateway's key (`www-authenticate`, `proxy-authenticate`), which
/// a client would take as one to its own. (Its `x-should-retry` stays: beside an error the
/// router relays, it is the provider's word on that error.)
pub const PROVIDER_PRIVATE: [&str; 7] = [
    "openai-organization",
    "openai-project",
    "anthropic-organization-id",
    "set-cookie",
    "set-cookie2",
    "www-authenticate",
    "proxy-authenticate",
];
/// Prefixes of the headers of the providers' own protocols, which the gateway speaks for the
/// client: AWS signing and Bedrock options (`x-amz-date`, `x-amz-security-token`,
/// `x-amzn-bedrock-*`), Google's (`x-goog-user-project`), Anthropic's (`anthropic-beta`) and
/// OpenAI's (`openai-organization`, `openai-project`, `openai-beta`). A client's would sign
/// or bill as someone else, or switch on a beta priced above the catalog, and a provider
/// refusing them answers 401 or 403, which counts against its breaker for every client. And
/// Envoy's (`x-envoy-*`): the gateway's inside (`x-envoy-internal`, its original path), and
/// the controls its router obeys on a request it takes for internal (`x-envoy-retry-on`,
/// `x-envoy-max-retries`, `x-envoy-upstream-rq-timeout-ms`): a client's would have Envoy send
/// one request to a provider again, each billed, wherever an operator's address settings let
/// the client pass for internal.
pub const PROVIDER_PREFIXES: [&str; 6] =
    ["x-amz-", "x-amzn-", "x-goog-", "anthropic-", "openai-", "x-envoy-"];
/// Prefixes of the headers a gateway's fronts set about the client and themselves: Cloudflare's
/// `cf-*` (address, country, ray), a browser's `sec-*` (fetch metadata, client hints) and the
/// client addresses of Vercel (`x-vercel-forwarded-for`, `x-vercel-ip-city`), CloudFront
/// (`cloudfront-viewer-address`), App Engine (`x-appengine-user-ip`) and Azure Front Door
/// (`x-azure-clientip`).
pub const FRONT_PREFIXES: [&str; 6] =
    ["cf-", "sec-", "x-vercel-", "cloudfront-viewer-", "x-appengine-", "x-azure-"];
/// Coding agents' own telemetry about the developer's machine and session, which the router
/// may send to any provider: the Codex CLI's (`x-codex-turn-metadata` names the workspace's
/// git remotes, its last commit and the installation; `x-codex-window-id`,
/// `x-codex-beta-features`) and its `session-id`, `thread-id` and `x-client-request-id` (its
/// session id again), and Claude Code's (`x-claude-code-session-id`). None asks a provider
/// for anything.
pub const CLIENT_TELEMETRY_PREFIXES: [&str; 2] = ["x-codex-", "x-claude-code-"];
/// The same, by whole name.
pub const CLIENT_TELEMETRY: [&str; 3] = ["session-id", "thread-id", "x-client-request-id"];

/// A client request header that never reaches a provider (credentials aside). One named with
/// `_` too (`x_api_key`, `anthropic_beta`): it passes the checks by name, and a backend that
/// reads `_` as `-` would take it (Envoy lets such names through unless its listener drops
/// them, which a mesh's may not).
pub fn not_for_providers(name: &str) -> bool {
    NOT_FOR_PROVIDERS.contains(&name)
        || CLIENT_TELEMETRY.contains(&name)
        || PROVIDER_PREFIXES
            .iter()
            .chain(&CLIENT_TELEMETRY_PREFIXES)
            .chain(&FRONT_PREFIXES)
            .any(|p| name.starts_with(p))
        || name.contains('_')
}
/// Response header: the tier `auto` scored (before stickiness or a fixed `tier`).
pub const AUTO_TIER: &str = "x-model-router-auto-tier";
/// Response header: the auto score, 3 decimals.
pub const AUTO_SCORE: &str = "x-model-router-auto-score";
/// Response header: the features that decided, comma-separated.
pub const AUTO_REASONS: &str = "x-model-router-auto-reasons";
/// Response header: `true` when stickiness kept the conversation above the scored tier.
pub const AUTO_STICKY: &str = "x-model-router-auto-sticky";
/// Response header: attempts it took (1 when the first provider answered).
pub const ATTEMPTS: &str = "x-model-router-attempts";
/// Response header: `provider/model` of every failed attempt, in order, on a fallback's answer
/// and on the router's own error when none answered.
pub const FALLBACK_FROM: &str = "x-model-router-fallback-from";
/// Request header the filter sets before every answer of its own (errors, failovers), so
/// Envoy's `local_reply_config` leaves that (already JSON) answer alone. Stripped from clients.
pub const ANSWERED: &str = "x-model-router-answered";
/// Response header: what the spend limits did (`ok`, `limited:TIER`, `downgraded:A->B`,
/// `free`, `exhausted`).
pub const BUDGET: &str = "x-model-router-budget";
/// Response header: what the request was charged in USD (catalog price x reported usage, and
/// the estimates of attempts lost on the way).
pub const COST: &str = "x-model-router-cost";
/// Response header on a token count (`/v1/messages/count_tokens`): who counted, `provider`
/// (Anthropic's counting endpoint) or `estimate` (the router's own).
pub const COUNT: &str = "x-model-router-count";
/// Response header: input tokens the provider reported.
pub const TOKENS_IN: &str = "x-model-router-tokens-in";
/// Response header: output tokens the provider reported.
pub const TOKENS_OUT: &str = "x-model-router-tokens-out";
/// Response header (on 429s the router answers): seconds until a provider takes requests again.
pub const RETRY_AFTER: &str = "retry-after";
/// Whether a client's SDK should retry an error (OpenAI's and Anthropic's read it first).
pub const SHOULD_RETRY: &str = "x-should-retry";
/// Envoy's mark on its own 503 for a cluster at its circuit-breaker limits.
pub const ENVOY_OVERLOADED: &str = "x-envoy-overloaded";
/// What Envoy sets on every answer an upstream sent: its time.
pub const UPSTREAM_TIME: &str = "x-envoy-upstream-service-time";
/// Response header of a 405: the methods the endpoint takes.
pub const ALLOW: &str = "allow";
/// Prefix of every header the router owns (client-sent ones never reach a provider).
pub const OWN_PREFIX: &str = "x-model-router-";

/// Pseudo-headers read to classify a request.
pub const METHOD: &str = ":method";
/// See [`METHOD`].
pub const PATH: &str = ":path";
/// Response status pseudo-header.
pub const STATUS: &str = ":status";
/// Replaced after the body is rewritten.
pub const CONTENT_LENGTH: &str = "content-length";
/// A compressed body cannot be read; such requests are refused.
pub const CONTENT_ENCODING: &str = "content-encoding";
/// Hop-by-hop and framing headers a fallback attempt does not copy from the client request.
pub const NOT_FORWARDED: [&str; 7] =
    ["content-length", "transfer-encoding", "connection", "keep-alive", "te", "upgrade", "expect"];
/// Set on local error replies.
pub const CONTENT_TYPE: &str = "content-type";
