//! Log ids (`server/log.c: core_generate_log_id`), shared by `%L` in ErrorLogFormat and in
//! LogFormat.

/// `core_generate_log_id`: 64 bits from the request's start (or now), the pid and the thread,
/// base64 without its final `=` (11 characters).
pub fn generate_log_id(request_time: Option<std::time::SystemTime>) -> String {
    let t = request_time.unwrap_or_else(std::time::SystemTime::now);
    let mut id = t
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_micros() as u64)
        .unwrap_or(0);
    let pid = u64::from(std::process::id());
    id ^= pid << 40;
    id ^= (pid >> 24) << 56;
    id ^= super::pthread_self() << 32;
    let mut s = base64(&id.to_ne_bytes());
    s.pop();
    s
}

/// Standard base64 with padding (`apr_base64_encode`).
pub(super) fn base64(bytes: &[u8]) -> String {
    const A: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut out = String::new();
    for chunk in bytes.chunks(3) {
        let b = [
            chunk[0],
            *chunk.get(1).unwrap_or(&0),
            *chunk.get(2).unwrap_or(&0),
        ];
        let n = (u32::from(b[0]) << 16) | (u32::from(b[1]) << 8) | u32::from(b[2]);
        for i in 0..4 {
            if i <= chunk.len() {
                out.push(char::from(A[(n >> (18 - 6 * i) & 63) as usize]));
            } else {
                out.push('=');
            }
        }
    }
    out
}
