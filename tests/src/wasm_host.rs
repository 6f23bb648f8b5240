//! A small proxy-wasm host on wasmtime, for host tests of the built filter.
//!
//! It plays Envoy's part for one HTTP stream at a time, with Envoy's semantics where they
//! matter: a paused request-headers callback holds the headers; a paused body callback buffers
//! the body and the next callback sees all of it; headers may still change while held; a local
//! reply ends the stream. Tests assert what a client or provider would observe (status, headers,
//! the body sent upstream), never the order of host calls. Host calls the filter is not expected
//! to make trap, so a new dependency on the host shows up as a failing test.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::{Mutex, OnceLock};

use wasmtime::{Caller, Engine, Extern, Instance, Linker, Memory, Module, Store, TypedFunc};

/// Status codes of the proxy-wasm ABI.
const OK: i32 = 0;
const NOT_FOUND: i32 = 1;
const BAD_ARGUMENT: i32 = 2;
const CAS_MISMATCH: i32 = 8;

/// Header map types of the ABI.
const REQUEST_HEADERS: i32 = 0;
const RESPONSE_HEADERS: i32 = 2;
/// Buffer types of the ABI.
const REQUEST_BODY: i32 = 0;
const RESPONSE_BODY: i32 = 1;
const PLUGIN_CONFIGURATION: i32 = 7;

/// A local reply the filter sent.
#[derive(Debug, Clone, PartialEq)]
pub struct LocalReply {
    /// HTTP status.
    pub status: u32,
    /// Headers the filter gave.
    pub headers: Vec<(String, String)>,
    /// Body bytes.
    pub body: Vec<u8>,
}

impl LocalReply {
    /// The body as JSON.
    pub fn json(&self) -> serde_json::Value {
        serde_json::from_slice(&self.body).unwrap_or(serde_json::Value::Null)
    }
}

/// What became of a request.
#[derive(Debug, Clone, PartialEq)]
pub enum Outcome {
    /// Sent upstream with these headers and this body.
    Forwarded {
        /// Request headers as they leave the filter.
        headers: Vec<(String, String)>,
        /// Request body as it leaves the filter.
        body: Vec<u8>,
    },
    /// Answered by the filter.
    Local(LocalReply),
    /// The filter paused and never continued nor replied: in Envoy, a hung request.
    Stalled,
}

/// Host-side state the imports read and write.
#[derive(Default)]
pub struct HostState {
    plugin_config: Vec<u8>,
    request_headers: Vec<(String, String)>,
    response_headers: Vec<(String, String)>,
    request_body: Vec<u8>,
    response_body: Vec<u8>,
    local_reply: Option<LocalReply>,
    /// VM environment variables as `KEY=value`.
    env: Vec<String>,
    /// Shared data: key -> (value, CAS token).
    shared: HashMap<String, (Vec<u8>, u32)>,
    /// The clock the filter reads, in nanoseconds since the epoch.
    pub now_nanos: u64,
    /// Log lines the filter wrote, with their level.
    pub logs: Vec<(i32, String)>,
    /// Metrics the filter defined: (kind, name, value), indexed by id.
    pub metrics: Vec<(i32, String, i64)>,
    /// Properties the filter wrote (Envoy's filter state `wasm.<name>`).
    pub properties: HashMap<String, String>,
    /// Crossings of the VM boundary so far.
    pub crossings: Crossings,
    /// The root context's tick period the filter last asked for, ms (0: none).
    pub tick_ms: u32,
}

/// Crossings of the VM boundary: what each costs in Envoy (argument copies, a V8 entry or
/// exit) does not depend on how fast the code on either side is.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Crossings {
    /// Calls from the filter into the host (imports: headers, buffers, shared data, ...).
    pub host_calls: u64,
    /// Calls from the host into the VM (callbacks, and allocations for values handed in).
    pub vm_entries: u64,
}

impl std::ops::Sub for Crossings {
    type Output = Crossings;
    fn sub(self, o: Crossings) -> Crossings {
        Crossings { host_calls: self.host_calls - o.host_calls, vm_entries: self.vm_entries - o.vm_entries }
    }
}

/// A loaded, configured filter.
pub struct Plugin {
    store: Store<HostState>,
    instance: Instance,
    root_id: i32,
    next_id: i32,
}

type HostResult<T> = Result<T, String>;

fn memory(caller: &mut Caller<'_, HostState>) -> wasmtime::Result<Memory> {
    match caller.get_export("memory") {
        Some(Extern::Memory(m)) => Ok(m),
        _ => Err(wasmtime::Error::msg("guest exports no memory")),
    }
}

fn read(caller: &mut Caller<'_, HostState>, ptr: i32, len: i32) -> wasmtime::Result<Vec<u8>> {
    let mem = memory(caller)?;
    let (start, len) = (ptr as u32 as usize, len as u32 as usize);
    mem.data(&caller)
        .get(start..start + len)
        .map(<[u8]>::to_vec)
        .ok_or_else(|| wasmtime::Error::msg("guest pointer out of bounds"))
}

fn read_str(caller: &mut Caller<'_, HostState>, ptr: i32, len: i32) -> wasmtime::Result<String> {
    Ok(String::from_utf8_lossy(&read(caller, ptr, len)?).into_owned())
}

fn write_u32(caller: &mut Caller<'_, HostState>, ptr: i32, value: u32) -> wasmtime::Result<()> {
    let mem = memory(caller)?;
    mem.write(caller, ptr as u32 as usize, &value.to_le_bytes())?;
    Ok(())
}

/// Copies `data` into guest memory allocated by the guest's allocator and stores the pointer
/// and length at the two return addresses, as the ABI requires.
fn give(
    caller: &mut Caller<'_, HostState>,
    data: &[u8],
    ret_ptr: i32,
    ret_len: i32,
) -> wasmtime::Result<i32> {
    let alloc = match caller.get_export("proxy_on_memory_allocate") {
        Some(Extern::Func(f)) => f.typed::<i32, i32>(&caller)?,
        _ => return Err(wasmtime::Error::msg("guest exports no allocator")),
    };
    let ptr = alloc.call(&mut *caller, data.len() as i32)?;
    let mem = memory(caller)?;
    mem.write(&mut *caller, ptr as u32 as usize, data)?;
    write_u32(caller, ret_ptr, ptr as u32)?;
    write_u32(caller, ret_len, data.len() as u32)?;
    Ok(OK)
}

fn headers_mut(state: &mut HostState, map: i32) -> Option<&mut Vec<(String, String)>> {
    match map {
        REQUEST_HEADERS => Some(&mut state.request_headers),
        RESPONSE_HEADERS => Some(&mut state.response_headers),
        _ => None,
    }
}

/// Adds a header, replacing existing values of the name when `replace`.
fn put_header(
    mut c: Caller<'_, HostState>,
    map: i32,
    key: (i32, i32),
    value: (i32, i32),
    replace: bool,
) -> wasmtime::Result<i32> {
    let key = read_str(&mut c, key.0, key.1)?;
    let value = read_str(&mut c, value.0, value.1)?;
    let Some(headers) = headers_mut(c.data_mut(), map) else { return Ok(BAD_ARGUMENT) };
    if replace {
        headers.retain(|(k, _)| *k != key);
    }
    headers.push((key, value));
    Ok(OK)
}

/// Parses the ABI's serialised header map.
/// The ABI's map format: count, (key length, value length) pairs, then NUL-terminated keys
/// and values.
fn serialize_map(pairs: &[(String, String)]) -> Vec<u8> {
    let mut out = (pairs.len() as u32).to_le_bytes().to_vec();
    for (k, v) in pairs {
        out.extend_from_slice(&(k.len() as u32).to_le_bytes());
        out.extend_from_slice(&(v.len() as u32).to_le_bytes());
    }
    for (k, v) in pairs {
        out.extend_from_slice(k.as_bytes());
        out.push(0);
        out.extend_from_slice(v.as_bytes());
        out.push(0);
    }
    out
}

fn parse_map(bytes: &[u8]) -> Vec<(String, String)> {
    let u32_at = |i: usize| -> usize {
        bytes.get(i..i + 4).map_or(0, |b| u32::from_le_bytes([b[0], b[1], b[2], b[3]]) as usize)
    };
    let n = u32_at(0);
    let mut sizes = Vec::with_capacity(n);
    for i in 0..n {
        sizes.push((u32_at(4 + 8 * i), u32_at(8 + 8 * i)));
    }
    let mut pos = 4 + 8 * n;
    let mut out = Vec::with_capacity(n);
    for (k, v) in sizes {
        let key = String::from_utf8_lossy(bytes.get(pos..pos + k).unwrap_or_default()).into_owned();
        pos += k + 1;
        let value = String::from_utf8_lossy(bytes.get(pos..pos + v).unwrap_or_default()).into_owned();
        pos += v + 1;
        out.push((key, value));
    }
    out
}

fn link(linker: &mut Linker<HostState>) -> wasmtime::Result<()> {
    linker.func_wrap(
        "env",
        "proxy_log",
        |mut c: Caller<'_, HostState>, level: i32, ptr: i32, len: i32| {
            let line = read_str(&mut c, ptr, len)?;
            c.data_mut().logs.push((level, line));
            Ok(OK)
        },
    )?;
    linker.func_wrap("env", "proxy_set_effective_context", |_: Caller<'_, HostState>, _ctx: i32| OK)?;
    linker.func_wrap(
        "env",
        "proxy_get_header_map_value",
        |mut c: Caller<'_, HostState>, map: i32, kp: i32, kl: i32, rp: i32, rl: i32| {
            let key = read_str(&mut c, kp, kl)?;
            let Some(headers) = headers_mut(c.data_mut(), map) else { return Ok(BAD_ARGUMENT) };
            match headers.iter().find(|(k, _)| *k == key).map(|(_, v)| v.clone()) {
                Some(v) => give(&mut c, v.as_bytes(), rp, rl),
                None => Ok(NOT_FOUND),
            }
        },
    )?;
    linker.func_wrap(
        "env",
        "proxy_replace_header_map_value",
        |c: Caller<'_, HostState>, map: i32, kp: i32, kl: i32, vp: i32, vl: i32| {
            put_header(c, map, (kp, kl), (vp, vl), true)
        },
    )?;
    linker.func_wrap(
        "env",
        "proxy_add_header_map_value",
        |c: Caller<'_, HostState>, map: i32, kp: i32, kl: i32, vp: i32, vl: i32| {
            put_header(c, map, (kp, kl), (vp, vl), false)
        },
    )?;
    linker.func_wrap(
        "env",
        "proxy_get_header_map_pairs",
        |mut c: Caller<'_, HostState>, map: i32, rp: i32, rl: i32| {
            let Some(headers) = headers_mut(c.data_mut(), map) else { return Ok(BAD_ARGUMENT) };
            let bytes = serialize_map(headers);
            give(&mut c, &bytes, rp, rl)
        },
    )?;
    linker.func_wrap(
        "env",
        "proxy_set_header_map_pairs",
        |mut c: Caller<'_, HostState>, map: i32, dp: i32, dl: i32| {
            let pairs = parse_map(&read(&mut c, dp, dl)?);
            let Some(headers) = headers_mut(c.data_mut(), map) else { return Ok(BAD_ARGUMENT) };
            *headers = pairs;
            Ok(OK)
        },
    )?;
    linker.func_wrap(
        "env",
        "proxy_remove_header_map_value",
        |mut c: Caller<'_, HostState>, map: i32, kp: i32, kl: i32| {
            let key = read_str(&mut c, kp, kl)?;
            let Some(headers) = headers_mut(c.data_mut(), map) else { return Ok(BAD_ARGUMENT) };
            headers.retain(|(k, _)| *k != key);
            Ok(OK)
        },
    )?;
    linker.func_wrap(
        "env",
        "proxy_get_buffer_bytes",
        |mut c: Caller<'_, HostState>, kind: i32, start: i32, max: i32, rp: i32, rl: i32| {
            // Lent out of the state while copied into the guest (one copy, as Envoy makes).
            fn buffer(s: &mut HostState, kind: i32) -> Option<&mut Vec<u8>> {
                match kind {
                    REQUEST_BODY => Some(&mut s.request_body),
                    RESPONSE_BODY => Some(&mut s.response_body),
                    PLUGIN_CONFIGURATION => Some(&mut s.plugin_config),
                    _ => None,
                }
            }
            let Some(data) = buffer(c.data_mut(), kind).map(std::mem::take) else { return Ok(BAD_ARGUMENT) };
            let start = (start as u32 as usize).min(data.len());
            let end = start.saturating_add(max as u32 as usize).min(data.len());
            let given = give(&mut c, &data[start..end], rp, rl);
            if let Some(b) = buffer(c.data_mut(), kind) {
                *b = data;
            }
            given
        },
    )?;
    linker.func_wrap(
        "env",
        "proxy_set_buffer_bytes",
        |mut c: Caller<'_, HostState>, kind: i32, start: i32, size: i32, dp: i32, dl: i32| {
            if kind != REQUEST_BODY {
                return Ok(BAD_ARGUMENT);
            }
            let data = read(&mut c, dp, dl)?;
            let body = &mut c.data_mut().request_body;
            let start = (start as u32 as usize).min(body.len());
            let end = start.saturating_add(size as u32 as usize).min(body.len());
            if start == 0 && end == body.len() {
                // The whole body replaced: taken as read (Envoy copies it once, too).
                *body = data;
            } else {
                body.splice(start..end, data);
            }
            Ok(OK)
        },
    )?;
    linker.func_wrap(
        "env",
        "proxy_send_local_response",
        |mut c: Caller<'_, HostState>,
         status: i32,
         _dp: i32,
         _dl: i32,
         bp: i32,
         bl: i32,
         hp: i32,
         hl: i32,
         _grpc: i32| {
            let body = read(&mut c, bp, bl)?;
            let headers = parse_map(&read(&mut c, hp, hl)?);
            c.data_mut().local_reply = Some(LocalReply { status: status as u32, headers, body });
            Ok(OK)
        },
    )?;
    linker.func_wrap(
        "env",
        "proxy_get_shared_data",
        |mut c: Caller<'_, HostState>, kp: i32, kl: i32, rp: i32, rl: i32, rc: i32| {
            let key = read_str(&mut c, kp, kl)?;
            let Some((value, cas)) = c.data().shared.get(&key).cloned() else { return Ok(NOT_FOUND) };
            write_u32(&mut c, rc, cas)?;
            give(&mut c, &value, rp, rl)
        },
    )?;
    linker.func_wrap(
        "env",
        "proxy_set_shared_data",
        |mut c: Caller<'_, HostState>, kp: i32, kl: i32, vp: i32, vl: i32, cas: i32| {
            let key = read_str(&mut c, kp, kl)?;
            let value = read(&mut c, vp, vl)?;
            let shared = &mut c.data_mut().shared;
            // Envoy's rule: an absent key is written whatever the token.
            let current = shared.get(&key).map(|(_, c)| *c);
            if current.is_some_and(|c| cas != 0 && cas as u32 != c) {
                return Ok(CAS_MISMATCH);
            }
            shared.insert(key, (value, current.unwrap_or(0) + 1));
            Ok(OK)
        },
    )?;
    linker.func_wrap(
        "env",
        "proxy_set_tick_period_milliseconds",
        |mut c: Caller<'_, HostState>, ms: i32| {
            c.data_mut().tick_ms = ms as u32;
            Ok(OK)
        },
    )?;
    linker.func_wrap(
        "env",
        "proxy_get_current_time_nanoseconds",
        |mut c: Caller<'_, HostState>, rp: i32| {
            let now = c.data().now_nanos;
            let mem = memory(&mut c)?;
            mem.write(&mut c, rp as u32 as usize, &now.to_le_bytes())?;
            Ok(OK)
        },
    )?;
    linker.func_wrap(
        "env",
        "proxy_get_property",
        |mut c: Caller<'_, HostState>, pp: i32, pl: i32, _rdp: i32, _rsp: i32| {
            // Only what the filter wrote is kept; Envoy's own properties are not modelled.
            let _path = read_str(&mut c, pp, pl)?;
            Ok(NOT_FOUND)
        },
    )?;
    linker.func_wrap(
        "env",
        "proxy_set_property",
        |mut c: Caller<'_, HostState>, pp: i32, pl: i32, vp: i32, vl: i32| {
            let path = read_str(&mut c, pp, pl)?;
            let value = read_str(&mut c, vp, vl)?;
            c.data_mut().properties.insert(path, value);
            Ok(OK)
        },
    )?;
    linker.func_wrap(
        "env",
        "proxy_define_metric",
        |mut c: Caller<'_, HostState>, kind: i32, np: i32, nl: i32, rid: i32| {
            let name = read_str(&mut c, np, nl)?;
            let metrics = &mut c.data_mut().metrics;
            let id = match metrics.iter().position(|(k, n, _)| *k == kind && *n == name) {
                Some(i) => i,
                None => {
                    metrics.push((kind, name, 0));
                    metrics.len() - 1
                }
            };
            write_u32(&mut c, rid, id as u32)?;
            Ok(OK)
        },
    )?;
    /// Applies `f` to metric `id`'s value; NotFound for an id never defined.
    fn metric(c: &mut Caller<'_, HostState>, id: i32, f: impl FnOnce(&mut i64)) -> wasmtime::Result<i32> {
        Ok(c.data_mut().metrics.get_mut(id as usize).map_or(NOT_FOUND, |m| {
            f(&mut m.2);
            OK
        }))
    }
    linker.func_wrap("env", "proxy_increment_metric", |mut c: Caller<'_, HostState>, id: i32, by: i64| {
        metric(&mut c, id, |v| *v += by)
    })?;
    linker.func_wrap("env", "proxy_record_metric", |mut c: Caller<'_, HostState>, id: i32, value: i64| {
        metric(&mut c, id, |v| *v = value)
    })?;
    // WASI: the Rust standard library's start-up needs these; the filter itself does no I/O.
    // The VM environment (`vm_config.environment_variables` in Envoy): `KEY=value\0` strings.
    linker.func_wrap(
        "wasi_snapshot_preview1",
        "environ_sizes_get",
        |mut c: Caller<'_, HostState>, np: i32, sp: i32| {
            let env = c.data().env.clone();
            write_u32(&mut c, np, env.len() as u32)?;
            write_u32(&mut c, sp, env.iter().map(|e| e.len() as u32 + 1).sum())?;
            Ok(0)
        },
    )?;
    linker.func_wrap(
        "wasi_snapshot_preview1",
        "environ_get",
        |mut c: Caller<'_, HostState>, ptrs: i32, buf: i32| {
            let env = c.data().env.clone();
            let mem = memory(&mut c)?;
            let mut at = buf as u32;
            for (i, e) in env.iter().enumerate() {
                write_u32(&mut c, ptrs + 4 * i as i32, at)?;
                let mut bytes = e.as_bytes().to_vec();
                bytes.push(0);
                mem.write(&mut c, at as usize, &bytes)?;
                at += bytes.len() as u32;
            }
            Ok(0)
        },
    )?;
    linker.func_wrap(
        "wasi_snapshot_preview1",
        "random_get",
        |mut c: Caller<'_, HostState>, buf: i32, len: i32| {
            // Deterministic bytes: the filter's only use is hash-map seeding.
            let bytes: Vec<u8> = (0..len as u32).map(|i| (i * 31 + 7) as u8).collect();
            let mem = memory(&mut c)?;
            mem.write(&mut c, buf as u32 as usize, &bytes)?;
            Ok(0)
        },
    )?;
    linker.func_wrap(
        "wasi_snapshot_preview1",
        "fd_write",
        |mut c: Caller<'_, HostState>, _fd: i32, iovs: i32, n: i32, written: i32| {
            let mut total = 0u32;
            for i in 0..n {
                let iov = read(&mut c, iovs + 8 * i, 8)?;
                let (p, l) = (
                    u32::from_le_bytes([iov[0], iov[1], iov[2], iov[3]]),
                    u32::from_le_bytes([iov[4], iov[5], iov[6], iov[7]]),
                );
                let text = read_str(&mut c, p as i32, l as i32)?;
                c.data_mut().logs.push((-1, text));
                total += l;
            }
            write_u32(&mut c, written, total)?;
            Ok(0)
        },
    )?;
    linker.func_wrap("wasi_snapshot_preview1", "proc_exit", |_: Caller<'_, HostState>, code: i32| {
        Err::<(), _>(wasmtime::Error::msg(format!("guest called proc_exit({code})")))
    })?;
    Ok(())
}

/// Compiling the module dominates a host test; do it once per file and process.
fn compiled(wasm: &Path) -> HostResult<(Engine, Module)> {
    static CACHE: OnceLock<Mutex<HashMap<PathBuf, (Engine, Module)>>> = OnceLock::new();
    let cache = CACHE.get_or_init(Mutex::default);
    let mut cache = cache.lock().map_err(|e| e.to_string())?;
    if let Some(hit) = cache.get(wasm) {
        return Ok(hit.clone());
    }
    let engine = Engine::default();
    let module = Module::from_file(&engine, wasm).map_err(|e| format!("{}: {e}", wasm.display()))?;
    cache.insert(wasm.to_path_buf(), (engine.clone(), module.clone()));
    Ok((engine, module))
}

impl Plugin {
    /// Loads `wasm`, starts the VM and configures the root context with `config`. Fails when
    /// the filter refuses the configuration, as Envoy would.
    pub fn load(wasm: &Path, config: &str) -> HostResult<Plugin> {
        Plugin::load_with_env(wasm, config, &[])
    }

    /// Like [`Plugin::load`], with VM environment variables.
    pub fn load_with_env(wasm: &Path, config: &str, env: &[(&str, &str)]) -> HostResult<Plugin> {
        let (engine, module) = compiled(wasm)?;
        let mut linker = Linker::new(&engine);
        link(&mut linker).map_err(|e| e.to_string())?;
        linker.define_unknown_imports_as_traps(&module).map_err(|e| e.to_string())?;
        let state = HostState {
            plugin_config: config.as_bytes().to_vec(),
            env: env.iter().map(|(k, v)| format!("{k}={v}")).collect(),
            ..HostState::default()
        };
        let mut store = Store::new(&engine, state);
        store.call_hook(|mut c, hook| {
            let n = &mut c.data_mut().crossings;
            match hook {
                wasmtime::CallHook::CallingHost => n.host_calls += 1,
                wasmtime::CallHook::CallingWasm => n.vm_entries += 1,
                wasmtime::CallHook::ReturningFromHost | wasmtime::CallHook::ReturningFromWasm => {}
            }
            Ok(())
        });
        let instance = linker.instantiate(&mut store, &module).map_err(|e| e.to_string())?;
        let mut plugin = Plugin { store, instance, root_id: 1, next_id: 2 };
        plugin.call0("_initialize")?;
        plugin.call2("proxy_on_context_create", plugin.root_id, 0)?;
        let vm_ok = plugin.call2r("proxy_on_vm_start", plugin.root_id, 0).unwrap_or(1);
        if vm_ok == 0 {
            return Err("proxy_on_vm_start returned false".into());
        }
        let size = config.len() as i32;
        if plugin.call2r("proxy_on_configure", plugin.root_id, size)? == 0 {
            return Err(format!("configuration refused; logs: {:?}", plugin.logs()));
        }
        Ok(plugin)
    }

    /// Pushes a new configuration as Envoy does: a new root context in the same VM, which
    /// new requests use. Returns the id of the root context it replaces (see
    /// [`Plugin::root_done`]).
    pub fn reconfigure(&mut self, config: &str) -> HostResult<i32> {
        let (old, id) = (self.root_id, self.next_id);
        self.next_id += 1;
        self.store.data_mut().plugin_config = config.as_bytes().to_vec();
        self.call2("proxy_on_context_create", id, 0)?;
        if self.call2r("proxy_on_configure", id, config.len() as i32)? == 0 {
            return Err(format!("configuration refused; logs: {:?}", self.logs()));
        }
        self.root_id = id;
        Ok(old)
    }

    /// The root context's tick, as Envoy calls it every period the filter asked for (`tick_ms`).
    pub fn tick(&mut self) -> HostResult<()> {
        let root = self.root_id;
        self.tick_root(root)
    }

    /// Root context `id`'s tick (one a configuration pushed since replaced is still called).
    pub fn tick_root(&mut self, id: i32) -> HostResult<()> {
        let f = self.func::<i32, ()>("proxy_on_tick")?;
        f.call(&mut self.store, id).map_err(|e| format!("proxy_on_tick trapped: {e:?}"))
    }

    /// The tick period the filter asked for, ms (0: none).
    pub fn tick_ms(&self) -> u32 {
        self.store.data().tick_ms
    }

    /// The root context new requests use.
    pub fn root(&self) -> i32 {
        self.root_id
    }

    /// Ends root context `id` as Envoy does when its plugin goes: done, delete.
    pub fn root_done(&mut self, id: i32) -> HostResult<()> {
        let f = self.func::<i32, i32>("proxy_on_done")?;
        f.call(&mut self.store, id).map_err(|e| format!("proxy_on_done trapped: {e:?}"))?;
        let f = self.func::<i32, ()>("proxy_on_delete")?;
        f.call(&mut self.store, id).map_err(|e| format!("proxy_on_delete trapped: {e:?}"))
    }

    /// The value of metric `name` (`model_router.` and the rest), if the filter defined it.
    pub fn metric(&self, name: &str) -> Option<i64> {
        self.store.data().metrics.iter().find(|(_, n, _)| n == name).map(|(_, _, v)| *v)
    }

    /// Sets the clock the filter reads.
    pub fn set_now_secs(&mut self, secs: u64) {
        self.store.data_mut().now_nanos = secs * 1_000_000_000;
    }

    /// Shared-data keys the filter has written.
    pub fn shared_keys(&self) -> Vec<String> {
        let mut keys: Vec<String> = self.store.data().shared.keys().cloned().collect();
        keys.sort();
        keys
    }

    /// The shared-data value under `key`, if the filter wrote one.
    pub fn shared_value(&self, key: &str) -> Option<Vec<u8>> {
        self.store.data().shared.get(key).map(|(value, _)| value.clone())
    }

    /// Forgets the shared-data values under `prefix` (a bench starts each turn from the same
    /// remembered state).
    pub fn forget_shared(&mut self, prefix: &str) {
        self.store.data_mut().shared.retain(|k, _| !k.starts_with(prefix));
    }

    /// Size of the VM's linear memory (the filter's whole heap and stack), in bytes.
    pub fn memory_bytes(&mut self) -> usize {
        self.instance.get_memory(&mut self.store, "memory").map_or(0, |m| m.data_size(&self.store))
    }

    /// VM boundary crossings so far.
    pub fn crossings(&self) -> Crossings {
        self.store.data().crossings
    }

    /// Log lines so far.
    pub fn logs(&self) -> &[(i32, String)] {
        &self.store.data().logs
    }

    fn func<P: wasmtime::WasmParams, R: wasmtime::WasmResults>(
        &mut self,
        name: &str,
    ) -> HostResult<TypedFunc<P, R>> {
        self.instance.get_typed_func::<P, R>(&mut self.store, name).map_err(|e| format!("{name}: {e}"))
    }

    fn call0(&mut self, name: &str) -> HostResult<()> {
        let f = self.func::<(), ()>(name)?;
        f.call(&mut self.store, ()).map_err(|e| format!("{name} trapped: {e:?}"))
    }

    fn call2(&mut self, name: &str, a: i32, b: i32) -> HostResult<()> {
        let f = self.func::<(i32, i32), ()>(name)?;
        f.call(&mut self.store, (a, b)).map_err(|e| format!("{name} trapped: {e:?}"))
    }

    fn call2r(&mut self, name: &str, a: i32, b: i32) -> HostResult<i32> {
        let f = self.func::<(i32, i32), i32>(name)?;
        f.call(&mut self.store, (a, b)).map_err(|e| format!("{name} trapped: {e:?}"))
    }

    fn call3r(&mut self, name: &str, a: i32, b: i32, c: i32) -> HostResult<i32> {
        let f = self.func::<(i32, i32, i32), i32>(name)?;
        f.call(&mut self.store, (a, b, c)).map_err(|e| format!("{name} trapped: {e:?}"))
    }

    /// Runs one request through the filter: headers, then the body in `chunks` (none for a
    /// body-less request). Returns the stream id for [`Plugin::response`] and the outcome.
    pub fn request(&mut self, headers: &[(&str, &str)], chunks: &[&[u8]]) -> HostResult<(i32, Outcome)> {
        let id = self.next_id;
        self.next_id += 1;
        {
            let s = self.store.data_mut();
            s.request_headers = headers.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect();
            s.request_body.clear();
            s.local_reply = None;
        }
        self.call2("proxy_on_context_create", id, self.root_id)?;
        let n = headers.len() as i32;
        let mut paused = self.call3r("proxy_on_request_headers", id, n, i32::from(chunks.is_empty()))? != 0;
        let mut forwarded_body = Vec::new();
        for (i, chunk) in chunks.iter().enumerate() {
            if let Some(reply) = self.store.data_mut().local_reply.take() {
                return Ok((id, Outcome::Local(reply)));
            }
            let end = i32::from(i + 1 == chunks.len());
            self.store.data_mut().request_body.extend_from_slice(chunk);
            let size = self.store.data().request_body.len() as i32;
            let body_paused = self.call3r("proxy_on_request_body", id, size, end)? != 0;
            if !body_paused {
                // Continue: what is buffered goes upstream now.
                let buffered = std::mem::take(&mut self.store.data_mut().request_body);
                if forwarded_body.is_empty() {
                    forwarded_body = buffered;
                } else {
                    forwarded_body.extend_from_slice(&buffered);
                }
            }
            paused = body_paused;
        }
        if let Some(reply) = self.store.data_mut().local_reply.take() {
            return Ok((id, Outcome::Local(reply)));
        }
        if paused {
            return Ok((id, Outcome::Stalled));
        }
        let headers = self.store.data().request_headers.clone();
        Ok((id, Outcome::Forwarded { headers, body: forwarded_body }))
    }

    /// Runs the response headers of stream `id` through the filter; returns them as the
    /// client would see them.
    pub fn response(&mut self, id: i32, headers: &[(&str, &str)]) -> HostResult<Vec<(String, String)>> {
        self.store.data_mut().response_headers =
            headers.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect();
        self.call3r("proxy_on_response_headers", id, headers.len() as i32, 0)?;
        Ok(self.store.data().response_headers.clone())
    }

    /// Runs a whole response body of stream `id` through the filter (one callback, end of
    /// stream); returns the response headers as the client would see them.
    pub fn response_body(&mut self, id: i32, body: &[u8]) -> HostResult<Vec<(String, String)>> {
        self.store.data_mut().response_body = body.to_vec();
        self.call3r("proxy_on_response_body", id, body.len() as i32, 1)?;
        Ok(self.store.data().response_headers.clone())
    }

    /// Ends stream `id` as Envoy does: done, log (where the filter settles its accounts),
    /// delete.
    pub fn finish(&mut self, id: i32) -> HostResult<()> {
        let f = self.func::<i32, i32>("proxy_on_done")?;
        f.call(&mut self.store, id).map_err(|e| format!("proxy_on_done trapped: {e:?}"))?;
        let f = self.func::<i32, ()>("proxy_on_log")?;
        f.call(&mut self.store, id).map_err(|e| format!("proxy_on_log trapped: {e:?}"))?;
        let f = self.func::<i32, ()>("proxy_on_delete")?;
        f.call(&mut self.store, id).map_err(|e| format!("proxy_on_delete trapped: {e:?}"))
    }
}

/// First value of a header in a list.
pub fn header<'h>(headers: &'h [(String, String)], name: &str) -> Option<&'h str> {
    headers.iter().find(|(k, _)| k == name).map(|(_, v)| v.as_str())
}
