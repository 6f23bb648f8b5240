//! Host calls that can fail, returning `Result` instead of panicking.
//!
//! The SDK's `hostcalls` panic on any status they do not expect, and in Envoy a panic traps the
//! VM for every request on the worker. These wrappers declare the same ABI imports and turn
//! every status into a value the callers handle.

use model_router_flow::io::ABSENT;
use proxy_wasm::types::{BufferType, LogLevel, MapType, MetricType, Status};
use std::ptr::{null, null_mut};

#[link(wasm_import_module = "env")]
unsafe extern "C" {
    fn proxy_log(level: LogLevel, message_data: *const u8, message_size: usize) -> Status;
    fn proxy_replace_header_map_value(
        map_type: MapType,
        key_data: *const u8,
        key_size: usize,
        value_data: *const u8,
        value_size: usize,
    ) -> Status;
    fn proxy_remove_header_map_value(map_type: MapType, key_data: *const u8, key_size: usize) -> Status;
    fn proxy_get_header_map_value(
        map_type: MapType,
        key_data: *const u8,
        key_size: usize,
        return_value_data: *mut *mut u8,
        return_value_size: *mut usize,
    ) -> Status;
    fn proxy_get_buffer_bytes(
        buffer_type: BufferType,
        start: usize,
        max_size: usize,
        return_buffer_data: *mut *mut u8,
        return_buffer_size: *mut usize,
    ) -> Status;
    fn proxy_set_buffer_bytes(
        buffer_type: BufferType,
        start: usize,
        size: usize,
        buffer_data: *const u8,
        buffer_size: usize,
    ) -> Status;
    fn proxy_get_shared_data(
        key_data: *const u8,
        key_size: usize,
        return_value_data: *mut *mut u8,
        return_value_size: *mut usize,
        return_cas: *mut u32,
    ) -> Status;
    fn proxy_set_shared_data(
        key_data: *const u8,
        key_size: usize,
        value_data: *const u8,
        value_size: usize,
        cas: u32,
    ) -> Status;
    fn proxy_get_current_time_nanoseconds(return_time: *mut u64) -> Status;
    fn proxy_set_tick_period_milliseconds(period: u32) -> Status;
    fn proxy_get_header_map_pairs(
        map_type: MapType,
        return_map_data: *mut *mut u8,
        return_map_size: *mut usize,
    ) -> Status;
    fn proxy_set_header_map_pairs(map_type: MapType, map_data: *const u8, map_size: usize) -> Status;
    fn proxy_define_metric(
        metric_type: MetricType,
        name_data: *const u8,
        name_size: usize,
        return_id: *mut u32,
    ) -> Status;
    fn proxy_increment_metric(metric_id: u32, offset: i64) -> Status;
    fn proxy_set_property(
        path_data: *const u8,
        path_size: usize,
        value_data: *const u8,
        value_size: usize,
    ) -> Status;
    fn proxy_get_property(
        path_data: *const u8,
        path_size: usize,
        return_value_data: *mut *mut u8,
        return_value_size: *mut usize,
    ) -> Status;
    fn proxy_record_metric(metric_id: u32, value: u64) -> Status;
    fn proxy_send_local_response(
        status_code: u32,
        status_code_details_data: *const u8,
        status_code_details_size: usize,
        body_data: *const u8,
        body_size: usize,
        headers_data: *const u8,
        headers_size: usize,
        grpc_status: i32,
    ) -> Status;
}

/// A host call that returned a status other than success.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct HostError {
    /// Which call.
    pub call: &'static str,
    /// The status it returned.
    pub status: Status,
}

impl std::fmt::Display for HostError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{} failed with status {:?}", self.call, self.status)
    }
}

type Result<T> = std::result::Result<T, HostError>;

fn check(call: &'static str, status: Status) -> Result<()> {
    match status {
        Status::Ok => Ok(()),
        status => Err(HostError { call, status }),
    }
}

/// Takes ownership of memory the host allocated through the SDK's `proxy_on_memory_allocate`.
fn owned(data: *mut u8, size: usize) -> Vec<u8> {
    if data.is_null() {
        return Vec::new();
    }
    // SAFETY: the host filled `size` bytes it obtained from our allocator (a Vec<u8> of that
    // capacity), and hands ownership back to us, exactly as the SDK's own wrappers assume.
    unsafe { Vec::from_raw_parts(data, size, size) }
}

/// Logs a line; failures to log are ignored (there is nowhere else to report them).
pub fn log(level: LogLevel, message: &str) {
    // SAFETY: pointer and length describe a live &str.
    let _ = unsafe { proxy_log(level, message.as_ptr(), message.len()) };
}

/// Sets (replaces) one header.
pub fn set_header(map: MapType, name: &str, value: &str) -> Result<()> {
    // SAFETY: pointers/lengths describe live &strs.
    let status = unsafe {
        proxy_replace_header_map_value(map, name.as_ptr(), name.len(), value.as_ptr(), value.len())
    };
    check("set_header", status)
}

/// Reads one header (the first of that name).
pub fn header(map: MapType, name: &str) -> Result<Option<String>> {
    let mut data = null_mut();
    let mut size = 0usize;
    // SAFETY: pointer/length describe a live &str; out-pointers are valid locals.
    let status = unsafe { proxy_get_header_map_value(map, name.as_ptr(), name.len(), &mut data, &mut size) };
    match status {
        Status::Ok => Ok(Some(String::from_utf8_lossy(&owned(data, size)).into_owned())),
        Status::NotFound => Ok(None),
        status => Err(HostError { call: "get_header", status }),
    }
}

/// Removes one header.
pub fn remove_header(map: MapType, name: &str) -> Result<()> {
    // SAFETY: pointer/length describe a live &str.
    let status = unsafe { proxy_remove_header_map_value(map, name.as_ptr(), name.len()) };
    check("remove_header", status)
}

/// Reads `size` bytes of a buffer from its start.
pub fn buffer(kind: BufferType, size: usize) -> Result<Vec<u8>> {
    buffer_range(kind, 0, size)
}

/// Reads up to `size` bytes of a buffer from offset `start`.
pub fn buffer_range(kind: BufferType, start: usize, size: usize) -> Result<Vec<u8>> {
    let mut data = null_mut();
    let mut len = 0usize;
    // SAFETY: out-pointers are valid locals.
    let status = unsafe { proxy_get_buffer_bytes(kind, start, size, &mut data, &mut len) };
    match status {
        Status::Ok => Ok(owned(data, len)),
        Status::NotFound | Status::Empty => Ok(Vec::new()),
        status => Err(HostError { call: "get_buffer", status }),
    }
}

/// Replaces the first `size` bytes of a buffer (the whole buffered body) with `value`.
pub fn replace_buffer(kind: BufferType, size: usize, value: &[u8]) -> Result<()> {
    // SAFETY: pointer/length describe a live slice.
    let status = unsafe { proxy_set_buffer_bytes(kind, 0, size, value.as_ptr(), value.len()) };
    check("set_buffer", status)
}

/// Appends `value` to a buffer of `size` bytes.
pub fn append_buffer(kind: BufferType, size: usize, value: &[u8]) -> Result<()> {
    // SAFETY: pointer/length describe a live slice.
    let status = unsafe { proxy_set_buffer_bytes(kind, size, 0, value.as_ptr(), value.len()) };
    check("append_buffer", status)
}

/// Every header of a map, in order.
pub fn headers(map: MapType) -> Result<Vec<(String, String)>> {
    let mut data = null_mut();
    let mut size = 0usize;
    // SAFETY: out-pointers are valid locals.
    let status = unsafe { proxy_get_header_map_pairs(map, &mut data, &mut size) };
    match status {
        Status::Ok => Ok(deserialize_map(&owned(data, size))),
        Status::NotFound => Ok(Vec::new()),
        status => Err(HostError { call: "get_header_pairs", status }),
    }
}

/// Replaces every header of a map with `pairs`, in one call (Envoy clears the route cache
/// when they are request headers, as for a single change).
pub fn set_headers(map: MapType, pairs: &[(String, String)]) -> Result<()> {
    let refs: Vec<(&str, &str)> = pairs.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
    let bytes = serialize_map(&refs);
    // SAFETY: pointer/length describe a live slice.
    let status = unsafe { proxy_set_header_map_pairs(map, bytes.as_ptr(), bytes.len()) };
    check("set_header_pairs", status)
}

/// Reads the ABI's map format (see [`serialize_map`]); a malformed map reads as empty.
fn deserialize_map(bytes: &[u8]) -> Vec<(String, String)> {
    fn read(bytes: &[u8]) -> Option<Vec<(String, String)>> {
        let word = |at: usize| -> Option<usize> {
            let b: [u8; 4] = bytes.get(at..at.checked_add(4)?)?.try_into().ok()?;
            usize::try_from(u32::from_le_bytes(b)).ok()
        };
        let count = word(0)?;
        let mut at = count.checked_mul(8)?.checked_add(4)?;
        let mut out = Vec::with_capacity(count.min(256));
        for i in 0..count {
            let (k, v) = (word(4 + 8 * i)?, word(8 + 8 * i)?);
            let mut take = |len: usize| -> Option<String> {
                let end = at.checked_add(len)?;
                let text = String::from_utf8_lossy(bytes.get(at..end)?).into_owned();
                at = end.checked_add(1)?;
                Some(text)
            };
            let key = take(k)?;
            out.push((key, take(v)?));
        }
        Some(out)
    }
    read(bytes).unwrap_or_default()
}

/// Serialises headers in the ABI's map format: count, (key length, value length) pairs, then
/// each key and value followed by a NUL.
fn serialize_map(pairs: &[(&str, &str)]) -> Vec<u8> {
    let mut out = Vec::with_capacity(4 + pairs.iter().map(|(k, v)| 10 + k.len() + v.len()).sum::<usize>());
    out.extend_from_slice(&(pairs.len() as u32).to_le_bytes());
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

/// Answers the request locally with `status`, `headers` and `body`.
pub fn send_response(status: u32, details: &str, headers: &[(&str, &str)], body: &[u8]) -> Result<()> {
    let map = serialize_map(headers);
    // SAFETY: every pointer/length pair describes a live buffer for the duration of the call.
    let status = unsafe {
        proxy_send_local_response(
            status,
            details.as_ptr(),
            details.len(),
            if body.is_empty() { null() } else { body.as_ptr() },
            body.len(),
            map.as_ptr(),
            map.len(),
            -1,
        )
    };
    check("send_local_response", status)
}

/// Reads a shared-data value (shared by all workers of the VM) and its CAS token; `None` and
/// [`ABSENT`] when the key is absent (a write with that token creates it, never overwrites it).
pub fn shared_get(key: &str) -> Result<(Option<Vec<u8>>, u32)> {
    let mut data = null_mut();
    let mut size = 0usize;
    let mut cas = 0u32;
    // SAFETY: key pointer/length describe a live &str; out-pointers are valid locals.
    let status = unsafe { proxy_get_shared_data(key.as_ptr(), key.len(), &mut data, &mut size, &mut cas) };
    match status {
        Status::Ok => Ok((Some(owned(data, size)), cas)),
        Status::NotFound => Ok((None, ABSENT)),
        status => Err(HostError { call: "get_shared_data", status }),
    }
}

/// Outcome of a compare-and-swap write.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Swap {
    /// Written.
    Done,
    /// Another worker wrote first: read again.
    Conflict,
}

/// Writes a shared-data value if its CAS token is still `cas` (0 writes unconditionally).
pub fn shared_set(key: &str, value: &[u8], cas: u32) -> Result<Swap> {
    // SAFETY: pointers/lengths describe live buffers.
    let status = unsafe { proxy_set_shared_data(key.as_ptr(), key.len(), value.as_ptr(), value.len(), cas) };
    match status {
        Status::Ok => Ok(Swap::Done),
        Status::CasMismatch => Ok(Swap::Conflict),
        status => Err(HostError { call: "set_shared_data", status }),
    }
}

/// Seconds since the Unix epoch, from the host's clock.
pub fn now_secs() -> Result<u64> {
    Ok(now_nanos()? / 1_000_000_000)
}

/// Nanoseconds since the Unix epoch, from the host's clock.
pub fn now_nanos() -> Result<u64> {
    let mut nanos = 0u64;
    // SAFETY: the out-pointer is a valid local.
    let status = unsafe { proxy_get_current_time_nanoseconds(&mut nanos) };
    check("get_current_time", status)?;
    Ok(nanos)
}

/// Asks for the root context's tick every `ms` milliseconds (0: none).
pub fn set_tick_period(ms: u32) -> Result<()> {
    // SAFETY: a plain value crosses.
    let status = unsafe { proxy_set_tick_period_milliseconds(ms) };
    check("set_tick_period", status)
}

/// Writes a property; Envoy keeps it as filter state `wasm.<name>` (for access logs and
/// tracing: `%FILTER_STATE(wasm.<name>:PLAIN)%`).
pub fn set_property(name: &str, value: &str) -> Result<()> {
    // SAFETY: pointers/lengths describe live &strs (a one-part path has no separators).
    let status = unsafe { proxy_set_property(name.as_ptr(), name.len(), value.as_ptr(), value.len()) };
    check("set_property", status)
}

/// Reads a property of the stream (`path`: its segments joined by NULs, as the ABI takes
/// them: `response\0code_details`).
pub fn property(path: &str) -> Result<Option<Vec<u8>>> {
    let mut data = null_mut();
    let mut size = 0usize;
    // SAFETY: pointer/length describe a live &str; out-pointers are valid locals.
    let status = unsafe { proxy_get_property(path.as_ptr(), path.len(), &mut data, &mut size) };
    match status {
        Status::Ok => Ok(Some(owned(data, size))),
        Status::NotFound => Ok(None),
        status => Err(HostError { call: "get_property", status }),
    }
}

/// Defines (or finds) a metric; Envoy shows it as `wasmcustom.<name>`.
pub fn define_metric(kind: MetricType, name: &str) -> Result<u32> {
    let mut id = 0u32;
    // SAFETY: pointer/length describe a live &str; the out-pointer is a valid local.
    let status = unsafe { proxy_define_metric(kind, name.as_ptr(), name.len(), &mut id) };
    check("define_metric", status)?;
    Ok(id)
}

/// Adds `offset` to a counter or gauge.
pub fn increment_metric(id: u32, offset: i64) -> Result<()> {
    // SAFETY: plain values.
    check("increment_metric", unsafe { proxy_increment_metric(id, offset) })
}

/// Sets a gauge, or records a histogram value.
pub fn record_metric(id: u32, value: u64) -> Result<()> {
    // SAFETY: plain values.
    check("record_metric", unsafe { proxy_record_metric(id, value) })
}
