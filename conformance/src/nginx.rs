//! nginx as a point of comparison for `mpm-lab bench --nginx`: started from a generated config
//! serving the same three files, on 127.0.0.1 only, in its own process group, stopped on drop.
//!
//! nginx is event-driven with a fixed number of worker processes (like event, but with no
//! thread pool behind the event loop): the peers chapter of the book compares them.

use crate::server::write_site;
use std::fs;
use std::io;
use std::net::SocketAddr;
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::Duration;

/// A running nginx.
pub struct Nginx {
    child: Child,
    dir: PathBuf,
    pub addr: SocketAddr,
}

/// `nginx` on the PATH or in /usr/sbin.
pub fn binary() -> Option<PathBuf> {
    let path = std::env::var_os("PATH").unwrap_or_default();
    std::env::split_paths(&path)
        .chain([PathBuf::from("/usr/sbin")])
        .map(|d| d.join("nginx"))
        .find(|p| p.is_file())
}

impl Nginx {
    /// Start nginx with `workers` worker processes on `port`.
    pub fn start(bin: &Path, port: u16, workers: usize) -> io::Result<Nginx> {
        let dir = std::env::temp_dir().join(format!("mpm-lab-nginx-{}-{port}", std::process::id()));
        fs::create_dir_all(dir.join("htdocs"))?;
        write_site(&dir.join("htdocs"))?;
        let d = dir.display();
        let conf = format!(
            "worker_processes {workers};\ndaemon off;\npid {d}/nginx.pid;\nerror_log {d}/error.log;\n\
             events {{ worker_connections 8192; }}\n\
             http {{\n  access_log off;\n  client_body_temp_path {d}/tmp;\n  proxy_temp_path {d}/tmp;\n\
               fastcgi_temp_path {d}/tmp;\n  uwsgi_temp_path {d}/tmp;\n  scgi_temp_path {d}/tmp;\n\
               server {{\n    listen 127.0.0.1:{port};\n    root {d}/htdocs;\n\
                 location = /nginx_status {{ stub_status; }}\n  }}\n}}\n"
        );
        fs::write(dir.join("nginx.conf"), conf)?;
        let child = Command::new(bin)
            .arg("-p")
            .arg(&dir)
            .arg("-e")
            .arg(dir.join("error.log"))
            .arg("-c")
            .arg(dir.join("nginx.conf"))
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(fs::File::create(dir.join("stderr.log"))?)
            .process_group(0)
            .spawn()?;
        let addr = SocketAddr::from(([127, 0, 0, 1], port));
        crate::server::groups::register(child.id() as i32, Some(dir.clone()));
        let mut n = Nginx { child, dir, addr };
        let up = crate::wait::try_wait_until(Duration::from_secs(10), || {
            if let Ok(Some(_)) = n.child.try_wait() {
                return Some(false);
            }
            crate::http::get(addr, "/nginx_status")
                .ok()
                .map(|r| r.status == 200)
        });
        if up != Some(true) {
            let err = fs::read_to_string(n.dir.join("stderr.log")).unwrap_or_default();
            return Err(io::Error::other(format!("nginx did not start: {err}")));
        }
        Ok(n)
    }
}

impl Nginx {
    /// The nginx master process.
    pub fn pid(&self) -> i32 {
        self.child.id() as i32
    }
}

impl Drop for Nginx {
    fn drop(&mut self) {
        let pgid = self.child.id() as i32;
        crate::server::groups::unregister(pgid);
        crate::server::groups::stop_group(pgid, Duration::from_secs(5));
        let _ = self.child.wait();
        let _ = fs::remove_dir_all(&self.dir);
    }
}
