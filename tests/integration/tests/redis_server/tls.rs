//! A `redis-server` that speaks TLS only, with certificates made for it by `openssl`: an
//! authority, the server's certificate for 127.0.0.1 signed by it, a client's (the server asks
//! for one: `tls-auth-clients yes`), and a second authority that signed nothing here.

use std::{path::Path, process::Command};

use super::{RedisServer, free_port};

/// The certificates, in PEM.
pub struct Certificates {
    pub authority: Vec<u8>,
    pub client_certificate: Vec<u8>,
    pub client_key: Vec<u8>,
    pub other_authority: Vec<u8>,
}

/// A TLS server on a loopback port, and its certificates; `None` as `RedisServer::start`.
pub fn start() -> Option<(RedisServer, Certificates)> {
    let port = free_port(0);
    let dir = std::env::temp_dir().join(format!("fusebox-tls-{}-{port}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("a temporary directory");
    make_certificates(&dir);
    let file = |name: &str| dir.join(name).display().to_string();
    let server = RedisServer::start_with(
        vec![
            "--port".into(),
            "0".into(),
            "--tls-port".into(),
            port.to_string(),
            "--tls-cert-file".into(),
            file("server.pem"),
            "--tls-key-file".into(),
            file("server.key"),
            "--tls-ca-cert-file".into(),
            file("authority.pem"),
            "--tls-auth-clients".into(),
            "yes".into(),
        ],
        Some(format!("rediss://127.0.0.1:{port}")),
    )?;
    let read = |name: &str| std::fs::read(dir.join(name)).expect("a certificate made");
    let certificates = Certificates {
        authority: read("authority.pem"),
        client_certificate: read("client.pem"),
        client_key: read("client.key"),
        other_authority: read("other.pem"),
    };
    let _ = std::fs::remove_dir_all(&dir);
    Some((server, certificates))
}

fn openssl(dir: &Path, args: &[&str]) {
    let output = Command::new("openssl")
        .current_dir(dir)
        .args(args)
        .output()
        .expect("openssl is installed (Debian: apt-get install openssl)");
    assert!(
        output.status.success(),
        "openssl {args:?}: {}",
        String::from_utf8_lossy(&output.stderr)
    );
}

fn make_certificates(dir: &Path) {
    let key = [
        "-newkey",
        "ec",
        "-pkeyopt",
        "ec_paramgen_curve:prime256v1",
        "-nodes",
    ];
    for (name, subject) in [
        ("authority", "/CN=fusebox test authority"),
        ("other", "/CN=another authority"),
    ] {
        let (key_file, pem) = (format!("{name}.key"), format!("{name}.pem"));
        let mut args = vec!["req", "-x509"];
        args.extend(key);
        args.extend([
            "-keyout", &key_file, "-out", &pem, "-days", "2", "-subj", subject,
        ]);
        openssl(dir, &args);
    }
    std::fs::write(
        dir.join("server.ext"),
        "subjectAltName=IP:127.0.0.1,DNS:localhost\nextendedKeyUsage=serverAuth\n",
    )
    .expect("write");
    std::fs::write(dir.join("client.ext"), "extendedKeyUsage=clientAuth\n").expect("write");
    for name in ["server", "client"] {
        let (key_file, csr, pem, ext) = (
            format!("{name}.key"),
            format!("{name}.csr"),
            format!("{name}.pem"),
            format!("{name}.ext"),
        );
        let subject = format!("/CN=fusebox test {name}");
        let mut args = vec!["req"];
        args.extend(key);
        args.extend(["-keyout", &key_file, "-out", &csr, "-subj", &subject]);
        openssl(dir, &args);
        openssl(
            dir,
            &[
                "x509",
                "-req",
                "-in",
                &csr,
                "-CA",
                "authority.pem",
                "-CAkey",
                "authority.key",
                "-CAcreateserial",
                "-out",
                &pem,
                "-days",
                "2",
                "-extfile",
                &ext,
            ],
        );
    }
}
