//! The `gridbook-server` binary as the district engineer uses it: keep the grid registry, register,
//! list and revoke devices, serve on a port it reports, and stop cleanly on SIGTERM.

// Helpers of tests: a failure is the test failing, with the panic message saying where.
#![allow(clippy::unwrap_used)]

use std::fs::File;
use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};

const BIN: &str = env!("CARGO_BIN_EXE_gridbook-server");

fn run(args: &[&str]) -> (bool, String, String) {
    let out = Command::new(BIN).args(args).output().unwrap();
    (out.status.success(), String::from_utf8_lossy(&out.stdout).into(), String::from_utf8_lossy(&out.stderr).into())
}

#[test]
fn grids_are_registered_in_their_village_and_given_to_devices_by_name() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().to_str().unwrap();
    let (ok, out, err) = run(&["grid", "add", "--data", data, "幸福村第一网格", "--village", "幸福村"]);
    assert!(ok && out.contains("幸福村第一网格"), "{err}");
    let (ok, _, err) = run(&["grid", "add", "--data", data, "幸福村第一网格", "--village", "幸福村"]);
    assert!(!ok && err.contains("already"), "one name per village: {err}");
    let (ok, _, _) = run(&["grid", "add", "--data", data, "第二网格"]);
    assert!(!ok, "a grid is registered with its village");
    let (ok, out, _) = run(&["grid", "list", "--data", data, "--json"]);
    assert!(ok);
    let grids: serde_json::Value = serde_json::from_str(&out).unwrap();
    assert_eq!((grids[0]["name"].as_str(), grids[0]["village"].as_str()), (Some("幸福村第一网格"), Some("幸福村")));
    let id = grids[0]["id"].as_str().unwrap();

    let member = |name: &str, grid: &str, extra: &[&str]| {
        let mut args = vec!["device", "add", "--data", data, "--name", name, "--role", "grid-member", "--grid", grid];
        args.extend(extra);
        run(&args)
    };
    let (ok, out, _) = member("phone-1", "幸福村第一网格", &[]);
    assert!(ok && out.contains(&format!("serves grid 幸福村第一网格 of 幸福村 ({id})")), "by name, shown: {out}");
    let (_, out, _) = run(&["device", "list", "--data", data, "--json"]);
    let devices: serde_json::Value = serde_json::from_str(&out).unwrap();
    assert_eq!(devices[0]["grids"][0].as_str(), Some(id), "a name is stored as the grid's id");
    let (ok, _, err) = member("phone-2", "没有这个网格", &[]);
    assert!(!ok && err.contains("grid list"), "an unknown name: {err}");
    // A grid made on a phone and not synced yet: the centre says which village it is in.
    let fresh = "0190a000-0000-7000-8000-000000000009";
    let (ok, _, err) = member("phone-3", fresh, &[]);
    assert!(!ok && err.contains("--village"), "{err}");
    assert!(member("phone-3", fresh, &["--village", "光明村"]).0);
    let (_, table, _) = run(&["grid", "list", "--data", data]);
    assert!(table.lines().any(|l| l.contains("光明村") && l.contains(fresh)), "{table}");
}

#[test]
fn devices_are_added_listed_and_revoked() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().to_str().unwrap();
    let grid = "0190a000-0000-7000-8000-000000000001";
    let (ok, out, err) = run(&[
        "device",
        "add",
        "--data",
        data,
        "--name",
        "phone-1",
        "--role",
        "grid-member",
        "--grid",
        grid,
        "--village",
        "v1",
        "--token",
    ]);
    assert!(ok, "{err}");
    let token = out.lines().find_map(|l| l.strip_prefix("token: ")).unwrap();
    assert!(token.starts_with("gbt_default_"));
    assert!(out.contains("cannot be shown again"));
    let (ok, _, err) = run(&["device", "add", "--data", data, "--name", "dept", "--role", "department"]);
    assert!(!ok && err.contains("--department"), "a department device needs its department: {err}");

    let (ok, out, _) = run(&["device", "list", "--data", data, "--json"]);
    assert!(ok);
    let list: serde_json::Value = serde_json::from_str(&out).unwrap();
    assert_eq!(list[0]["name"], "phone-1");
    assert_eq!(list[0]["role"], "grid-member");
    assert!(!out.contains(&token[12..]), "the token is never listed");

    assert!(run(&["device", "revoke", "--data", data, "phone-1", "--lost"]).0);
    let (_, table, _) = run(&["device", "list", "--data", data]);
    assert!(table.lines().any(|l| l.starts_with("phone-1") && l.contains(" lost ")), "{table}");
    assert!(!run(&["device", "revoke", "--data", data, "nobody", "--lost"]).0);
    // The directory now belongs to district "default": serving it as another is an error.
    let (ok, _, err) = run(&["serve", "--data", data, "--district", "hilltop", "--listen", "127.0.0.1:0"]);
    assert!(!ok && err.contains("district"), "{err}");
}

#[test]
fn a_device_is_added_with_a_one_time_code_and_given_a_fresh_one_when_replaced() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().to_str().unwrap();
    let code_of = |out: &str| out.lines().find_map(|l| l.strip_prefix("one-time code: ")).unwrap().to_string();
    let add = ["device", "add", "--data", data, "--name", "centre-pc", "--role", "centre", "--holder", " 张伟 "];
    let (ok, out, err) = run(&add);
    assert!(ok, "{err}");
    assert!(out.contains("as centre, held by 张伟"), "{out}");
    let code = code_of(&out);
    assert!(code.len() == 11 && code.as_bytes()[5] == b'-', "XXXXX-XXXXX: {code}");
    assert!(out.contains("It enrols the device once, until "), "when it expires: {out}");
    assert!(out.contains(&format!("gridbook enrol --server <server address> --code {code}")), "{out}");
    assert!(!out.contains("token"), "no token to copy by hand: {out}");

    let code_for = |extra: &[&str]| {
        let mut args = vec!["device", "code", "--data", data, "centre-pc"];
        args.extend(extra);
        run(&args)
    };
    let (ok, out, err) = code_for(&["--server-url", "https://sync.example.org"]);
    assert!(ok, "{err}");
    let fresh = code_of(&out);
    assert_ne!(fresh, code);
    assert!(out.contains(&format!("gridbook enrol --server https://sync.example.org --code {fresh}")), "{out}");

    let (_, out, _) = run(&["device", "list", "--data", data, "--json"]);
    let list: serde_json::Value = serde_json::from_str(&out).unwrap();
    assert_eq!((list[0]["holder"].as_str(), list[0]["keys"].as_u64()), (Some("张伟"), Some(0)));
    let (_, table, _) = run(&["device", "list", "--data", data]);
    assert!(table.lines().next().unwrap().contains("holder") && table.contains("张伟"), "{table}");
    let db = std::fs::read(dir.path().join("server.sqlite3")).unwrap();
    let wal = std::fs::read(dir.path().join("server.sqlite3-wal")).unwrap_or_default();
    for file in [db, wal] {
        assert!(!file.windows(10).any(|w| w == fresh.replace('-', "").as_bytes()), "codes are stored hashed");
    }

    let (ok, _, err) = run(&["device", "code", "--data", data, "nobody"]);
    assert!(!ok && err.contains("no such device"), "{err}");
    assert!(run(&["device", "revoke", "--data", data, "centre-pc", "--retired"]).0);
    let (ok, _, err) = code_for(&[]);
    assert!(!ok && err.contains("revoked"), "no code for a revoked device: {err}");
}

#[test]
fn a_revocation_says_why_and_the_list_shows_it() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().to_str().unwrap();
    for name in ["phone-lost", "phone-left", "phone-kept"] {
        assert!(run(&["device", "add", "--data", data, "--name", name, "--role", "centre"]).0);
    }
    // What becomes of the data on the phone depends on why: the centre must say.
    let (ok, _, err) = run(&["device", "revoke", "--data", data, "phone-lost"]);
    assert!(!ok && err.contains("--lost") && err.contains("--retired"), "{err}");
    let (ok, _, err) = run(&["device", "revoke", "--data", data, "phone-lost", "--lost", "--retired"]);
    assert!(!ok && err.contains("cannot be used with"), "{err}");

    let (ok, out, err) = run(&["device", "revoke", "--data", data, "phone-lost", "--lost"]);
    assert!(ok && out.contains("wiped at its next contact"), "{out}{err}");
    let (ok, out, err) = run(&["device", "revoke", "--data", data, "phone-left", "--retired"]);
    assert!(ok && out.contains("uploads what it has not sent"), "{out}{err}");
    // A lost phone stays lost, whatever is said of it later.
    assert!(run(&["device", "revoke", "--data", data, "phone-lost", "--retired"]).0);

    let (_, table, _) = run(&["device", "list", "--data", data]);
    let status = |name: &str| {
        let line = table.lines().find(|l| l.starts_with(name)).unwrap_or_default();
        line.split_whitespace().nth(2).unwrap_or_default().to_string()
    };
    assert_eq!([status("phone-lost"), status("phone-left"), status("phone-kept")], ["lost", "retired", "active"]);
    let (_, out, _) = run(&["device", "list", "--data", data, "--json"]);
    let list: serde_json::Value = serde_json::from_str(&out).unwrap();
    let reasons: Vec<_> = list.as_array().unwrap().iter().map(|d| d["revoked_as"].clone()).collect();
    assert_eq!(reasons, [serde_json::json!("lost"), serde_json::json!("retired"), serde_json::Value::Null]);
}

#[test]
fn every_role_is_spelt_as_before_and_no_other_spelling_is_taken() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().to_str().unwrap();
    let grid = "0190a000-0000-7000-8000-000000000001";
    let roles: [(&str, &[&str]); 4] = [
        ("grid-member", &["--grid", grid, "--village", "v1"]),
        ("secretary", &["--village", "v1"]),
        ("centre", &[]),
        ("department", &["--department", "fire"]),
    ];
    for (role, extra) in roles {
        let mut args = vec!["device", "add", "--data", data, "--name", role, "--role", role];
        args.extend(extra);
        let (ok, out, err) = run(&args);
        assert!(ok, "{role}: {err}");
        assert!(out.contains(&format!("as {role}")), "{out}");
    }
    let (_, out, _) = run(&["device", "list", "--data", data, "--json"]);
    let list: serde_json::Value = serde_json::from_str(&out).unwrap();
    for (i, (role, _)) in roles.iter().enumerate() {
        assert_eq!(list[i]["role"], *role);
    }
    for wrong in ["Centre", "grid_member", "member"] {
        let (ok, _, err) = run(&["device", "add", "--data", data, "--name", wrong, "--role", wrong]);
        assert!(!ok && err.contains("--role"), "{wrong}: {err}");
    }
}

/// Starts `serve` on a free port with its log going to `log`; returns it and its address.
fn serve(data: &std::path::Path, log: Stdio) -> (Child, String) {
    serve_with(data, log, &[])
}

/// [`serve`] with more arguments.
fn serve_with(data: &std::path::Path, log: Stdio, args: &[&str]) -> (Child, String) {
    let mut child = Command::new(BIN)
        .args(["serve", "--data", data.to_str().unwrap(), "--listen", "127.0.0.1:0"])
        .args(args)
        .stdout(Stdio::piped())
        .stderr(log)
        .spawn()
        .unwrap();
    let mut line = String::new();
    BufReader::new(child.stdout.take().unwrap()).read_line(&mut line).unwrap();
    let addr = line.trim().strip_prefix("listening on ").unwrap().to_string();
    (child, addr)
}

/// Sends SIGTERM and waits for a clean exit.
async fn stop(child: Child) {
    let mut child = child;
    assert!(Command::new("kill").args(["-TERM", &child.id().to_string()]).status().unwrap().success());
    let status = tokio::task::spawn_blocking(move || child.wait()).await.unwrap().unwrap();
    assert!(status.success(), "a clean exit on SIGTERM: {status}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn serve_reports_its_address_and_stops_on_sigterm() {
    let dir = tempfile::tempdir().unwrap();
    let (child, addr) = serve(dir.path(), Stdio::null());
    assert!(!addr.ends_with(":0"), "the real port: {addr}");
    let health = reqwest::get(format!("http://{addr}/healthz")).await.unwrap().text().await.unwrap();
    assert_eq!(health, "ok");
    stop(child).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_log_written_to_a_file_carries_no_colour_codes() {
    let dir = tempfile::tempdir().unwrap();
    let log_path = dir.path().join("server.log");
    let (child, addr) = serve(&dir.path().join("data"), Stdio::from(File::create(&log_path).unwrap()));
    let refused = reqwest::Client::new().post(format!("http://{addr}/v1/sync")).send().await.unwrap();
    assert_eq!(refused.status(), 401);
    stop(child).await;
    let log = std::fs::read_to_string(&log_path).unwrap();
    assert!(log.contains("serving") && log.contains("request refused"), "the log has its lines: {log}");
    assert!(!log.contains("\x1b["), "no ANSI escape codes in a file: {log:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_district_engineer_sets_the_limits_on_the_command_line() {
    use tokio::io::AsyncReadExt;
    let dir = tempfile::tempdir().unwrap();
    let (ok, _, err) = run(&["serve", "--data", dir.path().to_str().unwrap(), "--request-budget-mib", "0"]);
    assert!(!ok && err.contains("--request-budget-mib"), "a zero budget is refused: {err}");

    // A connection that sends nothing is closed after the header timeout given (20 s without it).
    let (child, addr) =
        serve_with(dir.path(), Stdio::null(), &["--header-timeout-secs", "1", "--device-concurrency", "2"]);
    let mut silent = tokio::net::TcpStream::connect(&addr).await.unwrap();
    let mut buf = [0u8; 16];
    let closed = tokio::time::timeout(std::time::Duration::from_secs(10), silent.read(&mut buf)).await;
    assert!(matches!(closed, Ok(Ok(0)) | Ok(Err(_))), "closed by the server: {closed:?}");
    stop(child).await;
}

/// Every file under `dir` that holds `text`.
fn files_holding(dir: &std::path::Path, text: &str) -> Vec<String> {
    let mut found = Vec::new();
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            found.extend(files_holding(&path, text));
        } else if std::fs::read(&path).unwrap().windows(text.len()).any(|w| w == text.as_bytes()) {
            found.push(path.display().to_string());
        }
    }
    found
}

#[test]
fn with_a_key_file_the_database_is_encrypted_and_opens_only_with_it() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let (data, key) = (data.to_str().unwrap(), dir.path().join("server.key"));
    let key = key.to_str().unwrap();
    // Made in plaintext first, as by a server of the previous version.
    let (ok, _, err) = run(&["grid", "add", "--data", data, "欧阳村第一网格", "--village", "欧阳村"]);
    assert!(ok, "{err}");
    assert!(!files_holding(dir.path(), "欧阳村").is_empty());

    let (ok, _, err) =
        run(&["--key-file", key, "device", "add", "--data", data, "--name", "centre-pc", "--role", "centre"]);
    assert!(ok && err.contains("made a new database key"), "{err}");
    assert_eq!(files_holding(dir.path(), "欧阳村"), Vec::<String>::new(), "encrypted in place");
    assert_eq!(files_holding(dir.path(), "centre-pc"), Vec::<String>::new());

    let (ok, out, _) = run(&["--key-file", key, "grid", "list", "--data", data, "--json"]);
    assert!(ok && out.contains("欧阳村第一网格"), "{out}");
    let (ok, _, err) = run(&["grid", "list", "--data", data]);
    assert!(!ok && err.contains("encrypted"), "without the key: {err}");
    let other = dir.path().join("other.key");
    let (ok, _, err) = run(&["--key-file", other.to_str().unwrap(), "grid", "list", "--data", data]);
    assert!(!ok && err.contains("encrypted"), "with another key: {err}");
}
