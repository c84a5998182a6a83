//! mod_status's `?auto` page, parsed (spec §7.5): httpd-core's parser, the one the servers'
//! own tests use, re-exported for the harness (it reads real Apache's pages as well).

pub use httpd_core::status::StatusAuto;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_the_reference_shape() {
        let body = "127.0.0.1\nServerVersion: Apache/2.4.71 (Debian)\nServerMPM: prefork\nServer Built: 2026-11-12T08:58:41\nBusyWorkers: 1\nIdleWorkers: 4\nScoreboard: ____W....\n";
        let st = StatusAuto::parse(body);
        assert_eq!(st.server_name, "127.0.0.1");
        assert_eq!(st.key_names()[2], "Server Built");
        assert_eq!(st.get("Server Built"), Some("2026-11-12T08:58:41"));
        assert_eq!((st.busy(), st.idle()), (1, 4));
        assert_eq!(st.count('_'), 4);
        assert_eq!(st.processes(25), Some(5));
    }
}
