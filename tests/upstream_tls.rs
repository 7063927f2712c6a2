//! A `rediss://` upstream: cachet's link to a redis-server that only speaks
//! TLS. The test makes a CA and a server certificate for 127.0.0.1 with
//! `openssl`, points `SSL_CERT_FILE` at the CA (rustls reads the trusted
//! roots from there), and checks that writes and reads go through and that
//! invalidations still arrive. Its own binary, because it sets an
//! environment variable before any thread of the test reads it.

mod common;

use common::{info_field, query, wait_until, TestServer};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::Duration;

const WAIT: Duration = Duration::from_secs(5);

fn openssl(dir: &Path, args: &[&str]) {
    let status = Command::new("openssl")
        .current_dir(dir)
        .args(args)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .expect("openssl is installed (scripts/install-deps)");
    assert!(status.success(), "openssl {:?} failed", args);
}

/// A CA (`ca.crt`) and a server certificate for IP 127.0.0.1 signed by it.
fn make_certificates(dir: &Path) {
    openssl(
        dir,
        &[
            "req",
            "-x509",
            "-newkey",
            "rsa:2048",
            "-nodes",
            "-keyout",
            "ca.key",
            "-out",
            "ca.crt",
            "-days",
            "2",
            "-subj",
            "/CN=cachet test CA",
        ],
    );
    openssl(
        dir,
        &[
            "req",
            "-newkey",
            "rsa:2048",
            "-nodes",
            "-keyout",
            "server.key",
            "-out",
            "server.csr",
            "-subj",
            "/CN=127.0.0.1",
        ],
    );
    std::fs::write(dir.join("san.ext"), "subjectAltName=IP:127.0.0.1\n").expect("write ext");
    openssl(
        dir,
        &[
            "x509",
            "-req",
            "-in",
            "server.csr",
            "-CA",
            "ca.crt",
            "-CAkey",
            "ca.key",
            "-CAcreateserial",
            "-out",
            "server.crt",
            "-days",
            "2",
            "-extfile",
            "san.ext",
        ],
    );
}

struct Process(Child);

impl Drop for Process {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn redis_cli(dir: &Path, port: u16, args: &[&str]) -> String {
    let output = Command::new("redis-cli")
        .args(["--tls", "--cacert"])
        .arg(dir.join("ca.crt"))
        .args(["-h", "127.0.0.1", "-p", &port.to_string()])
        .args(args)
        .output()
        .expect("redis-cli runs");
    String::from_utf8_lossy(&output.stdout).trim().to_string()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rediss_upstream_over_tls() {
    let dir = std::env::temp_dir().join(format!("cachet-tls-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("temp dir");
    make_certificates(&dir);
    // SAFETY: set before cachet starts; nothing else in this test binary
    // reads the environment concurrently.
    unsafe { std::env::set_var("SSL_CERT_FILE", dir.join("ca.crt")) };

    let port = common::free_port();
    let _upstream = Process(
        Command::new("redis-server")
            .args(["--port", "0", "--tls-port", &port.to_string()])
            .args([
                "--bind",
                "127.0.0.1",
                "--save",
                "",
                "--tls-auth-clients",
                "no",
            ])
            .arg("--tls-cert-file")
            .arg(dir.join("server.crt"))
            .arg("--tls-key-file")
            .arg(dir.join("server.key"))
            .arg("--tls-ca-cert-file")
            .arg(dir.join("ca.crt"))
            .stdout(Stdio::null())
            .spawn()
            .expect("redis-server is installed"),
    );
    assert!(
        wait_until(WAIT, || {
            let dir = dir.clone();
            async move { redis_cli(&dir, port, &["PING"]) == "PONG" }
        })
        .await,
        "the TLS redis-server did not start"
    );

    let url = format!("rediss://127.0.0.1:{}", port);
    let server = TestServer::start_with(|c| c.upstream = url).await;
    let mut l1 = server.conn().await;
    assert!(
        wait_until(WAIT, || {
            let mut l1 = l1.clone();
            async move {
                let info: String = query(&mut l1, &["INFO", "upstream"]).await;
                info_field(&info, "upstream_link_status").as_deref() == Some("up")
            }
        })
        .await,
        "the TLS link did not come up"
    );
    let _: () = query(&mut l1, &["SET", "secret", "s1"]).await;
    assert_eq!(redis_cli(&dir, port, &["GET", "secret"]), "s1");
    let v: String = query(&mut l1, &["GET", "secret"]).await;
    assert_eq!(v, "s1");
    assert_eq!(redis_cli(&dir, port, &["SET", "secret", "s2"]), "OK");
    assert!(
        wait_until(WAIT, || {
            let mut l1 = l1.clone();
            async move {
                let v: String = query(&mut l1, &["GET", "secret"]).await;
                v == "s2"
            }
        })
        .await,
        "the invalidation did not arrive over TLS"
    );
    server.stop().await;
    let _ = std::fs::remove_dir_all(&dir);
}
