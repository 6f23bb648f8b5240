// Validates every Kubernetes manifest under deploy/ against the CRD schemas of its platform
// (Istio 1.29 and Envoy Gateway, as packaged by kubernetes-models on npm): a field that the
// platform does not accept, a wrong type or a misspelt enum fails `make test`.
//
// With a third argument it also writes an Envoy bootstrap (JSON) holding the Envoy
// configuration the manifests' patches carry: the clusters and routes of the EnvoyPatchPolicy,
// the route and wasm settings of the EnvoyFilters. `envoy --mode validate` then checks those
// values against Envoy's own protos (the test does). Where the patches land in the generated
// configuration (their paths and match names) still needs a live control plane.
//
// node tests/manifests/validate.mjs MODELS_NODE_MODULES DEPLOY_DIR [BOOTSTRAP_OUT PLUGIN_WASM]
import fs from "node:fs";
import path from "node:path";

const [modules, deployDir, bootstrapOut, pluginWasm] = process.argv.slice(2);
const { parseAllDocuments } = await import(path.join(modules, "yaml/dist/index.js"));

// API group -> the package that holds its models.
const packages = {
  "extensions.istio.io": "@kubernetes-models/istio",
  "networking.istio.io": "@kubernetes-models/istio",
  "security.istio.io": "@kubernetes-models/istio",
  "gateway.envoyproxy.io": "@kubernetes-models/envoy-gateway",
  "gateway.networking.k8s.io": "@kubernetes-models/gateway-api",
};

async function model(apiVersion, kind) {
  const [group, version] = apiVersion.split("/");
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
  { apiVersion: "gateway.envoyproxy.io/v1alpha1", kind: "EnvoyExtensionPolicy", metadata: { name: "x" }, spec: { wasm: "not a list" } },
  { apiVersion: "networking.istio.io/v1", kind: "NoSuchKind", metadata: { name: "x" } },
];
for (const doc of refused) {
  let ok = true;
  try {
    await check(doc);
  } catch {
    ok = false;
  }
  if (ok) failures.push(`the validator accepted an invalid ${doc.kind}: ${JSON.stringify(doc.spec)}`);
}

if (bootstrapOut) {
  fs.writeFileSync(bootstrapOut, JSON.stringify(bootstrap(docs), null, 1));
}

/** The Envoy configuration carried by the manifests' patches, as one bootstrap. */
function bootstrap(docs) {
  const clusters = [];
  const routes = [];
  let wasm = {};
  for (const doc of docs) {
    if (doc.kind === "EnvoyPatchPolicy") {
      for (const p of doc.spec.jsonPatches) {
        const v = p.operation.value;
        if (p.type.endsWith(".Cluster") && p.operation.op === "add") clusters.push(v);
        if (p.type.endsWith(".RouteConfiguration") && p.operation.path.endsWith("/route")) routes.push(v);
        if (p.operation.path.endsWith("/allow_on_headers_stop_iteration")) wasm.allow_on_headers_stop_iteration = v;
      }
    }
    if (doc.kind === "EnvoyFilter") {
      for (const p of doc.spec.configPatches) {
        const v = p.patch.value;
        if (p.applyTo === "HTTP_ROUTE") routes.push(v.route);
        if (p.applyTo === "EXTENSION_CONFIG") wasm = { ...wasm, ...v.typed_config.config };
      }
    }
  }
  const route = (r, i) => ({ name: `patched-${i}`, match: { prefix: `/${i}` }, route: r });
  const wasmFilter = {
    name: "envoy.filters.http.wasm",
    typed_config: {
      "@type": "type.googleapis.com/envoy.extensions.filters.http.wasm.v3.Wasm",
      config: {
        ...wasm,
        name: "model-router",
        vm_config: { runtime: "envoy.wasm.runtime.v8", code: { local: { filename: pluginWasm } } },
      },
    },
  };
  const hcm = {
    "@type": "type.googleapis.com/envoy.extensions.filters.network.http_connection_manager.v3.HttpConnectionManager",
    stat_prefix: "patched",
    route_config: { virtual_hosts: [{ name: "patched", domains: ["*"], routes: routes.map(route) }] },
    http_filters: [wasmFilter, { name: "envoy.filters.http.router", typed_config: { "@type": "type.googleapis.com/envoy.extensions.filters.http.router.v3.Router" } }],
  };
  return {
    static_resources: {
      listeners: [{
        name: "patched",
        address: { socket_address: { address: "127.0.0.1", port_value: 0 } },
        filter_chains: [{ filters: [{ name: "envoy.filters.network.http_connection_manager", typed_config: hcm }] }],
      }],
      clusters,
    },
  };
}

if (failures.length) {
  console.error(failures.join("\n"));
  process.exit(1);
}
console.log(`${checked} manifests valid`);
