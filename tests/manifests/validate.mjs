// Validates every Kubernetes manifest under deploy/ against the CRD schemas of its platform
// (Istio 1.29 and Envoy Gateway, as packaged by kubernetes-models on npm; a ConfigMap against
// Kubernetes' own): a field that the platform does not accept, a wrong type or a misspelt enum
// fails `make test`.
//
// With a third argument it also writes, per platform, an Envoy bootstrap (JSON) holding the Envoy
// configuration the manifests carry: OUT.istio.json (the route and wasm settings of the
// EnvoyFilters, the stats_config of the bootstrap override ConfigMap) and OUT.envoy-gateway.json
// (the clusters and routes of the EnvoyPatchPolicy, the stats_config the EnvoyProxy merges).
// `envoy --mode validate` then checks those values against Envoy's own protos (the test does).
// Where the patches land in the generated configuration (their paths and match names) still
// needs a live control plane.
//
// It also writes OUT.docs.json: every manifest as JSON, and ENVOY_CONFIG (the reference
// envoy/providers.yaml) as JSON, for the test's own checks.
//
// node tests/manifests/validate.mjs MODELS_NODE_MODULES DEPLOY_DIR [OUT PLUGIN_WASM [ENVOY_CONFIG]]
import fs from "node:fs";
import path from "node:path";

const [modules, deployDir, out, pluginWasm, envoyConfig] = process.argv.slice(2);
const { parseAllDocuments } = await import(path.join(modules, "yaml/dist/index.js"));

// API group -> the package that holds its models ("" is Kubernetes' core API: a ConfigMap).
const packages = {
  "": "kubernetes-models",
  "extensions.istio.io": "@kubernetes-models/istio",
  "networking.istio.io": "@kubernetes-models/istio",
  "security.istio.io": "@kubernetes-models/istio",
  "gateway.envoyproxy.io": "@kubernetes-models/envoy-gateway",
  "gateway.networking.k8s.io": "@kubernetes-models/gateway-api",
};

async function model(apiVersion, kind) {
  const [group, version] = apiVersion.includes("/") ? apiVersion.split("/") : ["", apiVersion];
  const pkg = packages[group];
  if (!pkg) throw new Error(`no schema package for ${apiVersion}`);
  const file = path.join(modules, pkg, group, version, `${kind}.js`);
  if (!fs.existsSync(file)) throw new Error(`${apiVersion} ${kind}: not a kind of that API`);
  return (await import(file))[kind];
}

async function check(doc) {
  const Model = await model(doc.apiVersion, doc.kind);
  new Model(doc).validate();
}

function manifests(dir) {
  return fs.readdirSync(dir, { withFileTypes: true }).flatMap((e) => {
    const p = path.join(dir, e.name);
    if (e.isDirectory()) return manifests(p);
    return /\.ya?ml$/.test(e.name) ? [p] : [];
  });
}

let checked = 0;
const failures = [];
const docs = [];
for (const file of manifests(deployDir)) {
  for (const d of parseAllDocuments(fs.readFileSync(file, "utf8"))) {
    if (d.errors.length) {
      failures.push(`${file}: ${d.errors[0].message}`);
      continue;
    }
    const doc = d.toJS();
    if (!doc) continue;
    docs.push(doc);
    try {
      await check(doc);
      checked += 1;
    } catch (e) {
      failures.push(`${file}: ${doc.kind} ${doc.metadata?.name}: ${e.message}`);
    }
  }
}

// The validator must be able to say no: a wrong enum, a wrong type, an unknown kind.
const refused = [
  { apiVersion: "extensions.istio.io/v1alpha1", kind: "WasmPlugin", metadata: { name: "x" }, spec: { url: "oci://x", phase: "NO_SUCH_PHASE" } },
  { apiVersion: "networking.istio.io/v1alpha3", kind: "EnvoyFilter", metadata: { name: "x" }, spec: { configPatches: [{ applyTo: "EXTENSION_CONFIG", patch: { operation: "NO_SUCH_OP" } }] } },
  { apiVersion: "gateway.envoyproxy.io/v1alpha1", kind: "EnvoyExtensionPolicy", metadata: { name: "x" }, spec: { wasm: "not a list" } },
  { apiVersion: "networking.istio.io/v1", kind: "NoSuchKind", metadata: { name: "x" } },
  { apiVersion: "v1", kind: "ConfigMap", metadata: { name: "x" }, data: { "custom_bootstrap.json": { stats_config: {} } } },
  { apiVersion: "gateway.envoyproxy.io/v1alpha1", kind: "EnvoyProxy", metadata: { name: "x" }, spec: { bootstrap: { type: "Patch" } } },
];
for (const doc of refused) {
  let ok = true;
  try {
    await check(doc);
  } catch {
    ok = false;
  }
  if (ok) failures.push(`the validator accepted an invalid ${doc.kind}: ${JSON.stringify(doc.spec ?? doc.data)}`);
}

// What Istio does with EnvoyFilter patches that its CRD schema lets through (istio/istio
// pilot/pkg/networking/core/envoyfilter): an EXTENSION_CONFIG patch is applied only when its
// operation is ADD (InsertedExtensionConfigurations skips the others), and a match has only
// these fields (EnvoyConfigObjectMatch).
const istioMatchFields = new Set(["context", "proxy", "listener", "routeConfiguration", "cluster"]);
const WASM_TYPE = "type.googleapis.com/envoy.extensions.filters.http.wasm.v3.Wasm";
const HCM_TYPE = "type.googleapis.com/envoy.extensions.filters.network.http_connection_manager.v3.HttpConnectionManager";
const ROUTER = { name: "envoy.filters.http.router", typed_config: { "@type": "type.googleapis.com/envoy.extensions.filters.http.router.v3.Router" } };
for (const doc of docs.filter((d) => d.kind === "EnvoyFilter")) {
  for (const p of doc.spec.configPatches) {
    const where = `EnvoyFilter ${doc.metadata.name} ${p.applyTo}`;
    for (const k of Object.keys(p.match ?? {})) {
      if (!istioMatchFields.has(k)) failures.push(`${where}: match has no field ${k} (Istio ignores or refuses it)`);
    }
    if (p.applyTo === "EXTENSION_CONFIG" && p.patch.operation !== "ADD") {
      failures.push(`${where}: Istio applies only ADD to extension configs, not ${p.patch.operation}`);
    }
  }
}

/** A Wasm filter config with its code replaced by the locally built module. */
function localCode(typedConfig) {
  const t = structuredClone(typedConfig);
  t.config.vm_config.code = { local: { filename: pluginWasm } };
  return t;
}

function listener(name, hcm, extra = {}) {
  return {
    name,
    address: { socket_address: { address: "127.0.0.1", port_value: 0 } },
    filter_chains: [{ filters: [{ name: "envoy.filters.network.http_connection_manager", typed_config: hcm }] }],
    ...extra,
  };
}

function route(r, i) {
  return { name: `patched-${i}`, match: { prefix: `/${i}` }, route: r };
}

/**
 * Istio's LLM gateway as the EnvoyFilters make it: the Wasm filter an HTTP_FILTER patch inserts
 * before the router, with the config of the EXTENSION_CONFIG it names (ECDS, ADD only; inline
 * here, since no control plane serves it), the HCM and listener merges, the route merges.
 */
function istio(docs) {
  const patches = docs.filter((d) => d.kind === "EnvoyFilter").flatMap((d) => d.spec.configPatches);
  const extensions = new Map();
  for (const p of patches) {
    if (p.applyTo === "EXTENSION_CONFIG" && p.patch.operation === "ADD") extensions.set(p.patch.value.name, p.patch.value.typed_config);
  }
  const filters = [];
  const routes = [];
  let hcm = { "@type": HCM_TYPE, stat_prefix: "istio" };
  let extra = {};
  for (const p of patches) {
    const v = p.patch.value;
    if (p.applyTo === "HTTP_FILTER" && p.patch.operation === "INSERT_BEFORE"
        && p.match?.listener?.filterChain?.filter?.subFilter?.name === ROUTER.name) {
      const discovery = v.config_discovery;
      const typed = discovery ? extensions.get(v.name) : v.typed_config;
      if (!typed) {
        failures.push(`Istio: the HTTP filter ${v.name} names no extension config an EnvoyFilter ADDs`);
        continue;
      }
      if (discovery && !discovery.type_urls.includes(typed["@type"])) {
        failures.push(`Istio: the HTTP filter ${v.name} does not accept ${typed["@type"]}`);
      }
      filters.push({ name: v.name, typed_config: typed["@type"] === WASM_TYPE ? localCode(typed) : typed });
    }
    if (p.applyTo === "NETWORK_FILTER" && p.patch.operation === "MERGE"
        && p.match?.listener?.filterChain?.filter?.name === "envoy.filters.network.http_connection_manager") {
      hcm = { ...hcm, ...v.typed_config };
    }
    if (p.applyTo === "LISTENER" && p.patch.operation === "MERGE") extra = { ...extra, ...v };
    if (p.applyTo === "HTTP_ROUTE") routes.push(v.route);
  }
  hcm.route_config = { virtual_hosts: [{ name: "istio", domains: ["*"], routes: routes.map(route) }] };
  hcm.http_filters = [...filters, ROUTER];
  return listener("istio", hcm, extra);
}

/**
 * The JSON pointers a JSONPath selects, for the subset the manifests use ($, .key, ..key, [*],
 * [?(@.key == 'v')], [?(@.key =~ 'regex')]), as Envoy Gateway resolves `jsonPath` before it
 * applies a JSON Patch (internal/utils/jsonpatch: every match is patched, none is an error).
 */
function jsonPath(doc, expr) {
  const tokens = expr.match(/\.\.[A-Za-z_]+|\.[A-Za-z_]+|\[\*\]|\[\?\(@\.[A-Za-z_]+ *(?:==|=~) *'[^']*'\)\]|^\$/g) ?? [];
  if (tokens.join("") !== expr) throw new Error(`jsonPath outside the supported subset: ${expr}`);
  let nodes = [["", doc]];
  const esc = (k) => String(k).replace(/~/g, "~0").replace(/\//g, "~1");
  const descend = (ptr, v, key, out) => {
    if (v && typeof v === "object") {
      if (!Array.isArray(v) && key in v) out.push([`${ptr}/${esc(key)}`, v[key]]);
      for (const [k, c] of Object.entries(v)) descend(`${ptr}/${esc(k)}`, c, key, out);
    }
  };
  for (const t of tokens) {
    const next = [];
    if (t === "$") continue;
    for (const [ptr, v] of nodes) {
      if (t.startsWith("..")) descend(ptr, v, t.slice(2), next);
      else if (t.startsWith(".")) { if (v && typeof v === "object" && t.slice(1) in v) next.push([`${ptr}/${esc(t.slice(1))}`, v[t.slice(1)]]); }
      else if (t === "[*]") { if (Array.isArray(v)) v.forEach((c, i) => next.push([`${ptr}/${i}`, c])); }
      else {
        const [, key, op, lit] = t.match(/^\[\?\(@\.([A-Za-z_]+) *(==|=~) *'([^']*)'\)\]$/);
        if (Array.isArray(v)) v.forEach((c, i) => {
          const x = c?.[key];
          if (typeof x === "string" && (op === "==" ? x === lit : new RegExp(lit).test(x))) next.push([`${ptr}/${i}`, c]);
        });
      }
    }
    nodes = next;
  }
  return nodes.map(([ptr]) => ptr);
}

/** Applies one RFC 6902 add or replace at a JSON pointer (creating missing objects on add, as Envoy Gateway does). */
function applyPointer(doc, pointer, op, value) {
  const parts = pointer.split("/").slice(1).map((p) => p.replace(/~1/g, "/").replace(/~0/g, "~"));
  let node = doc;
  for (const p of parts.slice(0, -1)) {
    if (node[p] === undefined) {
      if (op !== "add") throw new Error(`no ${pointer}`);
      node[p] = {};
    }
    node = node[p];
  }
  const last = parts[parts.length - 1];
  if (op === "replace" && node[last] === undefined) throw new Error(`replace: no ${pointer}`);
  if (Array.isArray(node) && last === "-") node.push(structuredClone(value));
  else node[last] = structuredClone(value);
}

/**
 * Envoy Gateway's listener and routes as it generates them for the Gateway llm/llm (listener
 * http) with the EnvoyExtensionPolicy's Wasm filter (internal/xds/translator/wasm.go: named
 * envoy.filters.http.wasm/envoyextensionpolicy/<ns>/<name>/wasm/<i>, disabled in the HCM and
 * enabled on the policy's routes), with a JWT filter ahead of it (a SecurityPolicy) and another
 * HTTPRoute's route first on the listener; then the EnvoyPatchPolicy applied to them.
 */
function envoyGateway(docs, clusters) {
  const filters = [{
    name: "envoy.filters.http.jwt_authn",
    typed_config: { "@type": "type.googleapis.com/envoy.extensions.filters.http.jwt_authn.v3.JwtAuthentication" },
  }];
  const enable = {};
  for (const doc of docs.filter((d) => d.kind === "EnvoyExtensionPolicy")) {
    (doc.spec.wasm ?? []).forEach((w, i) => {
      const name = `envoy.filters.http.wasm/envoyextensionpolicy/${doc.metadata.namespace}/${doc.metadata.name}/wasm/${i}`;
      enable[name] = { "@type": "type.googleapis.com/envoy.config.route.v3.FilterConfig", config: {} };
      filters.push({
        name,
        disabled: true,
        typed_config: {
          "@type": WASM_TYPE,
          config: {
            name: w.name,
            ...(w.rootID ? { root_id: w.rootID } : {}),
            ...(w.failOpen ? { fail_open: true } : {}),
            configuration: { "@type": "type.googleapis.com/google.protobuf.StringValue", value: JSON.stringify(w.config ?? "") },
            vm_config: {
              vm_id: name,
              runtime: "envoy.wasm.runtime.v8",
              code: { local: { filename: pluginWasm } },
              ...(w.env?.hostKeys ? { environment_variables: { host_env_keys: w.env.hostKeys } } : {}),
            },
          },
        },
      });
    });
  }
  const hcm = {
    "@type": HCM_TYPE,
    stat_prefix: "http-10080",
    http_filters: [...filters, ROUTER],
  };
  const generatedListener = {
    name: "llm/llm/http",
    address: { socket_address: { address: "127.0.0.1", port_value: 0 } },
    default_filter_chain: { filters: [{ name: "envoy.filters.network.http_connection_manager", typed_config: hcm }] },
  };
  const routes = {
    name: "llm/llm/http",
    validate_clusters: false,
    virtual_hosts: [
      {
        name: "llm/llm/http/app_example_com",
        domains: ["app.example.com"],
        routes: [{ name: "httproute/apps/app/rule/0/match/0/app_example_com", match: { prefix: "/" }, route: { cluster: "httproute/apps/app/rule/0" } }],
      },
      {
        name: "llm/llm/http/llm_example_com",
        domains: ["llm.example.com"],
        routes: [{
          name: "httproute/llm/llm/rule/0/match/0/llm_example_com",
          match: { prefix: "/" },
          route: { cluster: "httproute/llm/llm/rule/0" },
          typed_per_filter_config: enable,
        }],
      },
    ],
  };
  for (const doc of docs.filter((d) => d.kind === "EnvoyPatchPolicy")) {
    for (const p of doc.spec.jsonPatches) {
      const { op, path: ptr, jsonPath: jp, value } = p.operation;
      if (p.type.endsWith(".Cluster") && op === "add" && !ptr) {
        clusters.push(value);
        continue;
      }
      const target = p.type.endsWith(".Listener") && p.name === generatedListener.name ? generatedListener
        : p.type.endsWith(".RouteConfiguration") && p.name === routes.name ? routes : null;
      if (!target) {
        failures.push(`EnvoyPatchPolicy ${doc.metadata.name}: nothing Envoy Gateway generates is ${p.type} ${p.name}`);
        continue;
      }
      const pointers = jp ? jsonPath(target, jp).map((q) => q + (ptr ?? "")) : [ptr];
      if (pointers.length === 0) failures.push(`EnvoyPatchPolicy ${doc.metadata.name}: jsonPath ${jp} selects nothing`);
      for (const q of pointers) {
        try {
          applyPointer(target, q, op, value);
        } catch (e) {
          failures.push(`EnvoyPatchPolicy ${doc.metadata.name}: ${op} ${q}: ${e.message}`);
        }
      }
    }
  }
  hcm.route_config = routes;
  return generatedListener;
}

/** protobuf's MergeFrom on JSON, for the fields the manifests merge: a message merges field by field, a repeated field appends, a scalar replaces. */
function protoMerge(dst, src) {
  const merged = structuredClone(dst);
  for (const [k, v] of Object.entries(src ?? {})) {
    const d = merged[k];
    if (Array.isArray(v)) merged[k] = [...(Array.isArray(d) ? d : []), ...structuredClone(v)];
    else if (v && typeof v === "object" && d && typeof d === "object" && !Array.isArray(d)) merged[k] = protoMerge(d, v);
    else merged[k] = structuredClone(v);
  }
  return merged;
}

/**
 * The stats_config of the bootstrap Istio generates for a gateway (istio/istio
 * tools/packaging/common/envoy_bootstrap.json, pkg/bootstrap/config.go), as far as it decides
 * which stats exist and how they are named: no default tags, and the inclusion list every proxy
 * gets whatever its proxyStatsMatcher says (which only adds to it). Istio's own tags, anchored
 * to Envoy's stat families, are left out.
 */
const ISTIO_STATS = {
  use_all_default_tags: false,
  stats_matcher: {
    inclusion_list: {
      patterns: [
        ...["reporter=", "cluster_manager", "listener_manager", "server", "cluster.xds-grpc", "wasm"].map((prefix) => ({ prefix })),
        ...["rbac.allowed", "rbac.denied", "shadow_allowed", "shadow_denied"].map((suffix) => ({ suffix })),
        { safe_regex: { regex: "vhost\\..*\\.route\\..*" } },
        { prefix: "component" },
        { prefix: "istio" },
      ],
    },
  },
};

/**
 * The stats_config of the bootstrap Envoy Gateway generates (envoyproxy/gateway
 * internal/xds/bootstrap/bootstrap.yaml.tpl): Envoy's default tags on and no stats_matcher
 * (it has one only when an EnvoyProxy's telemetry.metrics.matches asks). Its own zone and
 * priority tags, anchored to Envoy's stat families, are left out.
 */
const ENVOY_GATEWAY_STATS = { use_all_default_tags: true };

/**
 * The bootstrap override the Istio manifests ship: a ConfigMap holding custom_bootstrap.json,
 * which the injector mounts on a pod annotated sidecar.istio.io/bootstrapOverride: <its name>
 * and istio-agent hands Envoy as --config-yaml (YAML or JSON: it converts). Envoy merges it into
 * Istio's bootstrap with protobuf's MergeFrom. The pod mounts it from its own namespace: the
 * LLM gateway's, where the EnvoyFilters are.
 */
function istioOverride(docs) {
  const maps = docs.filter((d) => d.kind === "ConfigMap" && d.data?.["custom_bootstrap.json"] !== undefined);
  if (maps.length !== 1) {
    failures.push(`Istio: ${maps.length} ConfigMaps with a custom_bootstrap.json, not one`);
    return {};
  }
  const [map] = maps;
  const namespaces = new Set(docs.filter((d) => d.kind === "EnvoyFilter").map((d) => d.metadata.namespace));
  if (namespaces.size !== 1 || !namespaces.has(map.metadata.namespace)) {
    failures.push(`Istio: ConfigMap ${map.metadata.name} is in ${map.metadata.namespace}, the gateway in ${[...namespaces]}`);
  }
  return parseAllDocuments(map.data["custom_bootstrap.json"])[0].toJS();
}

/**
 * What the Envoy Gateway manifests' EnvoyProxy merges into the bootstrap Envoy Gateway generates
 * (internal/xds/bootstrap/util.go: Merge is protobuf's Merge of its YAML value). The Gateway names
 * it by a local parametersRef, so it lives in the Gateway's namespace: the EnvoyPatchPolicy's.
 */
function envoyGatewayOverride(docs) {
  const proxies = docs.filter((d) => d.kind === "EnvoyProxy");
  if (proxies.length !== 1) {
    failures.push(`Envoy Gateway: ${proxies.length} EnvoyProxy resources, not one`);
    return {};
  }
  const [proxy] = proxies;
  const gateways = new Set(docs.filter((d) => d.kind === "EnvoyPatchPolicy").map((d) => d.metadata.namespace));
  if (gateways.size !== 1 || !gateways.has(proxy.metadata.namespace)) {
    failures.push(`Envoy Gateway: EnvoyProxy ${proxy.metadata.name} is in ${proxy.metadata.namespace}, the Gateway in ${[...gateways]}`);
  }
  const bootstrap = proxy.spec.bootstrap;
  if (bootstrap?.type !== "Merge") {
    failures.push(`Envoy Gateway: EnvoyProxy ${proxy.metadata.name}: bootstrap type ${bootstrap?.type}, only Merge is modelled here`);
    return {};
  }
  return parseAllDocuments(bootstrap.value)[0].toJS();
}

/** Each platform's Envoy as the manifests make it: its listener (and clusters), its bootstrap's stats_config with the manifests' merged in. */
function bootstraps(docs) {
  const clusters = [];
  const eg = envoyGateway(docs, clusters);
  return {
    istio: protoMerge({ stats_config: ISTIO_STATS, static_resources: { listeners: [istio(docs)] } }, istioOverride(docs)),
    "envoy-gateway": protoMerge({ stats_config: ENVOY_GATEWAY_STATS, static_resources: { listeners: [eg], clusters } }, envoyGatewayOverride(docs)),
  };
}

if (out) {
  for (const [platform, b] of Object.entries(bootstraps(docs))) {
    fs.writeFileSync(`${out}.${platform}.json`, JSON.stringify(b, null, 1));
  }
  const reference = envoyConfig ? parseAllDocuments(fs.readFileSync(envoyConfig, "utf8"))[0].toJS() : null;
  fs.writeFileSync(`${out}.docs.json`, JSON.stringify({ docs, envoy: reference }));
}

if (failures.length) {
  console.error(failures.join("\n"));
  process.exit(1);
}
console.log(`${checked} manifests valid`);
