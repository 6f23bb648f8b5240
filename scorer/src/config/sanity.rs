//! What a configuration refuses wholesale, said when it loads: a provider policy that leaves
//! every chat request or a client no model, a spend limit of 0 with no free model. Such a
//! configuration is valid (an operator may close a client on purpose) but would otherwise show
//! only in the errors its clients get.

use super::Config;
use crate::catalog::Tier;
use crate::vocab::Policy;

/// A configuration that is no JSON object, said so (not as a parse error at line 1): `[]`, which
/// would load a config by position; a `google.protobuf.Struct` in Envoy's `configuration`,
/// which the VM gets as protobuf bytes; a file saved with a byte-order mark.
pub(super) fn object_only(bytes: &[u8]) -> Result<(), super::ConfigError> {
    match bytes.iter().find(|b| !b.is_ascii_whitespace()) {
        Some(b'{') | None => Ok(()),
        Some(_) => Err(super::ConfigError::Json(
            "the configuration must be a JSON object ({...}, without a byte-order mark), given to Envoy as a google.protobuf.StringValue".into(),
        )),
    }
}

/// The Responses API's hosted tool types (the official spec's `Tool` union, less the types the
/// router serves: `function`, `custom`, `namespace`): what `responses.drop_tools` may name.
const HOSTED_TOOLS: [&str; 15] = [
    "apply_patch",
    "code_interpreter",
    "computer",
    "computer_use_preview",
    "file_search",
    "image_generation",
    "local_shell",
    "mcp",
    "programmatic_tool_calling",
    "shell",
    "tool_search",
    "web_search",
    "web_search_2025_08_26",
    "web_search_preview",
    "web_search_preview_2025_03_11",
];

impl Config {
    /// One sentence per setting that is valid but does nothing, or takes away what an operator
    /// would not think it does, at `now` (seconds since the epoch): said when it loads.
    pub fn cautions(&self, now: u64) -> Vec<String> {
        let mut out = Vec::new();
        if self.resilience.failover_body_bytes == 0 {
            out.push(
                "resilience.failover_body_bytes is 0: no body is kept, so no request fails over to another provider (each is counted in failover_unkept)"
                    .to_string(),
            );
        }
        for (alias, target) in self.model_aliases.exact() {
            let mut served = self.catalog.deployments.iter().filter(|d| d.id == target).peekable();
            if served.peek().is_some() && served.all(|d| d.retired(now)) {
                out.push(format!(
                    "model_aliases.{alias} names {target}, which has retired: every request for it is refused (400 model_retired)"
                ));
            }
        }
        for tier in Tier::ALL {
            let mut models =
                self.catalog.deployments.iter().filter(|d| d.tier == tier && d.api.routable()).peekable();
            if models.peek().is_some() && models.all(|d| d.retired(now)) {
                out.push(format!(
                    "every model of tier {} has retired (its retires dates passed): requests for it go to the next tier up, and with none above are refused (503 no_current_model)",
                    tier.as_str()
                ));
            }
        }
        for t in self.responses.drop_tools.iter().filter(|t| !HOSTED_TOOLS.contains(&t.as_str())) {
            out.push(format!(
                "responses.drop_tools names {t:?}, no hosted tool type of the Responses API ({}): it leaves nothing out",
                HOSTED_TOOLS.join(", ")
            ));
        }
        out
    }

    /// One sentence per part of the configuration that refuses every chat request it covers.
    pub fn refusals(&self) -> Vec<String> {
        let deployments = &self.catalog.deployments;
        let serves = |p: &Policy| deployments.iter().any(|d| p.allows(&d.provider));
        let mut out = Vec::new();
        if !serves(&self.policy) {
            out.push(
                "blocked_providers leaves no chat model: every chat request is refused (403 no_allowed_provider)"
                    .to_string(),
            );
        }
        for (client, policy) in &self.clients {
            if serves(&self.policy) && !serves(policy) {
                out.push(format!(
                    "clients.{client} leaves that client no chat model: its every chat request is refused (403 no_allowed_provider)"
                ));
            }
        }
        // A request always has a price above 0 unless a model is free (`free`): a limit of 0
        // refuses all.
        if deployments.iter().any(|d| d.price_in == 0.0 && d.price_out == 0.0) {
            return out;
        }
        // Below one input token of the cheapest model, a limit refuses as 0 does (`1e-10`).
        let token = deployments.iter().map(|d| d.price_in / 1e6).fold(f64::INFINITY, f64::min);
        let zero = |usd: &f64| *usd <= 0.0 || *usd < token;
        let refused =
            "every chat request it covers is refused (400 request_over_budget) while no model is free";
        let said = |usd: &f64| {
            if *usd <= 0.0 { "0".to_string() } else { format!("{usd}, below one token of any model") }
        };
        if let Some(usd) = self.budgets.daily_usd.as_ref().filter(|u| zero(u)) {
            out.push(format!("budgets.daily_usd is {}: {refused}", said(usd)));
        }
        for (client, usd) in &self.budgets.clients {
            if zero(usd) {
                out.push(format!("budgets.clients.{client} is {}: {refused}", said(usd)));
            }
        }
        if let Some(usd) = self.budgets.client_default_usd.as_ref().filter(|u| zero(u)) {
            out.push(format!("budgets.client_default_usd is {}: {refused}", said(usd)));
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn refusals(json: &str) -> Vec<String> {
        Config::from_json(json.as_bytes()).map(|c| c.refusals()).unwrap_or_else(|e| vec![format!("{e}")])
    }

    /// Settings that load and then do nothing, or less than an operator would think: said.
    #[test]
    fn settings_that_do_nothing_are_said() {
        let cautions = |json: &str, now: u64| {
            Config::from_json(json.as_bytes())
                .map(|c| c.cautions(now))
                .unwrap_or_else(|e| vec![format!("{e}")])
        };
        assert_eq!(cautions("", 0), Vec::<String>::new());
        assert_eq!(cautions(r#"{"responses":{"drop_tools":["web_search","mcp"]}}"#, 0), Vec::<String>::new());
        let got = cautions(r#"{"resilience":{"failover_body_bytes":0}}"#, 0);
        assert!(got.len() == 1 && got[0].starts_with("resilience.failover_body_bytes is 0"), "{got:?}");
        let got = cautions(r#"{"responses":{"drop_tools":["web_serch"]}}"#, 0);
        assert!(got.len() == 1 && got[0].contains("\"web_serch\", no hosted tool type"), "{got:?}");
        // An alias to a model of the catalog that has retired, said once it has.
        let catalog = r#"{"providers":{"a":{}},"models":[
            {"id":"m","tier":"economy","provider":"a","context_window":1000,"max_output":100,"price_in":1,"price_out":2},
            {"id":"s","tier":"standard","provider":"a","context_window":1000,"max_output":100,"price_in":1,"price_out":2},
            {"id":"x","tier":"premium","provider":"a","context_window":1000,"max_output":100,"price_in":1,"price_out":2},
            {"id":"old","tier":"economy","provider":"a","context_window":1000,"max_output":100,"price_in":1,"price_out":2,"retires":"2026-01-01"}]}"#;
        let json = format!(r#"{{"catalog":{catalog},"model_aliases":{{"legacy":"old","fine":"m"}}}}"#);
        assert_eq!(cautions(&json, 0), Vec::<String>::new(), "before its day");
        let got = cautions(&json, 1_800_000_000);
        assert!(
            got.len() == 1 && got[0].starts_with("model_aliases.legacy names old, which has retired"),
            "{got:?}"
        );
    }

    /// A tier whose every model has retired is said at load, and a request for it with no
    /// tier above is a 503 naming the retirement (it was a 403 blaming the provider policy).
    #[test]
    fn a_tier_whose_models_all_retired_is_said_and_answered_so() {
        let catalog = r#"{"providers":{"a":{}},"models":[
            {"id":"m","tier":"economy","provider":"a","context_window":1000,"max_output":100,"price_in":1,"price_out":2},
            {"id":"s","tier":"standard","provider":"a","context_window":1000,"max_output":100,"price_in":1,"price_out":2},
            {"id":"x","tier":"premium","provider":"a","context_window":1000,"max_output":100,"price_in":1,"price_out":2,"retires":"2026-01-01"}]}"#;
        let config = Config::from_json(format!(r#"{{"catalog":{catalog}}}"#).as_bytes())
            .unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(config.cautions(0), Vec::<String>::new(), "before its day");
        let got = config.cautions(1_800_000_000);
        assert!(got.len() == 1 && got[0].starts_with("every model of tier premium has retired"), "{got:?}");
        let body = br#"{"model":"premium","messages":[{"role":"user","content":"hi"}]}"#;
        let e = crate::decide::route::route_chat(&config, body, 1_800_000_000).err();
        assert_eq!(e.map(|e| (e.status, e.code)), Some((503, "no_current_model")));
        let standard = br#"{"model":"standard","messages":[{"role":"user","content":"hi"}]}"#;
        assert!(crate::decide::route::route_chat(&config, standard, 1_800_000_000).is_ok());
        // Current models the request's own policy leaves out: the policy's 403, as before.
        let catalog =
            catalog.replace(r#""tier":"standard","provider":"a""#, r#""tier":"standard","provider":"b""#);
        let catalog = catalog.replace(r#"{"a":{}}"#, r#"{"a":{},"b":{}}"#);
        let config = Config::from_json(format!(r#"{{"catalog":{catalog}}}"#).as_bytes())
            .unwrap_or_else(|e| panic!("{e}"));
        let only_a =
            br#"{"model":"standard","provider":{"only":["a"]},"messages":[{"role":"user","content":"hi"}]}"#;
        let e = crate::decide::route::route_chat(&config, only_a, 1_800_000_000).err();
        assert_eq!(e.map(|e| (e.status, e.code)), Some((403, "no_allowed_provider")));
    }

    #[test]
    fn the_shipped_defaults_refuse_nothing() {
        assert_eq!(refusals(""), Vec::<String>::new());
        let open = r#"{"client_header":"x-client-id","clients":{"a":{"only_providers":["groq"]}},
            "budgets":{"daily_usd":10,"clients":{"a":1},"client_default_usd":0.5}}"#;
        assert_eq!(refusals(open), Vec::<String>::new());
    }

    #[test]
    fn a_policy_that_leaves_no_model_is_named() {
        let providers: Vec<String> = Config::from_json(b"")
            .map(|c| c.catalog.providers.iter().map(|p| format!("\"{}\"", p.name)).collect())
            .unwrap_or_default();
        let all = providers.join(",");
        let got = refusals(&format!(r#"{{"blocked_providers":[{all}]}}"#));
        assert_eq!(got.len(), 1, "{got:?}");
        assert!(got.iter().all(|r| r.starts_with("blocked_providers leaves no chat model")), "{got:?}");
        // A client's own: only a provider the global list blocks, or blocking every one.
        let cfg = format!(
            r#"{{"client_header":"x-client-id","blocked_providers":["groq"],
            "clients":{{"a":{{"only_providers":["groq"]}},"b":{{"blocked_providers":[{all}]}},"c":{{}}}}}}"#
        );
        let got = refusals(&cfg);
        assert_eq!(got.len(), 2, "{got:?}");
        assert!(got.first().is_some_and(|r| r.starts_with("clients.a leaves")), "{got:?}");
        assert!(got.get(1).is_some_and(|r| r.starts_with("clients.b leaves")), "{got:?}");
    }

    #[test]
    fn a_zero_limit_is_named_unless_a_model_is_free() {
        let cfg = r#"{"client_header":"x-client-id",
            "budgets":{"daily_usd":0,"clients":{"a":0,"b":2},"client_default_usd":0}}"#;
        let got = refusals(cfg);
        let named: Vec<&str> = got.iter().filter_map(|r| r.split(' ').next()).collect();
        assert_eq!(
            named,
            ["budgets.daily_usd", "budgets.clients.a", "budgets.client_default_usd"],
            "{got:?}"
        );
        let with_free = cfg.replacen('{', r#"{"free":["groq/llama-3.3-70b-versatile"],"#, 1);
        assert_eq!(refusals(&with_free), Vec::<String>::new());
        // A limit below one token of the cheapest model refuses as 0 does; a cent does not.
        let got = refusals(r#"{"budgets":{"daily_usd":1e-10}}"#);
        assert!(got.len() == 1 && got.iter().all(|r| r.contains("below one token")), "{got:?}");
        assert_eq!(refusals(r#"{"budgets":{"daily_usd":0.01}}"#), Vec::<String>::new());
    }
}
