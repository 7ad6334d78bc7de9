//! The dashboard in a real browser: headless Chromium, driven over the `DevTools` protocol,
//! opens the page served by `http::admin_router`, and the test checks that it lists every
//! breaker and that forcing one open through the admin route turns its tile to open, live,
//! without a reload. It keeps a screenshot at the workspace's `target/dashboard.png`.
//!
//! Chromium is found as `$CHROMIUM`, else `chromium`, `chromium-browser` or `google-chrome` on
//! the `PATH`. Without one the test says so and passes, unless `BREAKER_REQUIRE_BROWSER` is set
//! (CI sets it, and installs Debian's `chromium`).

mod support;

use std::{
    io::{BufRead, BufReader},
    net::{SocketAddr, TcpStream},
    path::{Path, PathBuf},
    process::{Child, Command, Stdio},
    sync::mpsc,
    thread,
    time::{Duration, Instant},
};

use base64::Engine;
use fusebox::{
    CircuitBreaker, Config,
    fleet::{Fleet, FleetOptions},
    registry,
};
use serde_json::{Value, json};
use tungstenite::{Message, WebSocket, stream::MaybeTlsStream};

/// The breakers the page shows: a name, and one call in how many fails.
const BREAKERS: [(&str, u64); 12] = [
    ("shop::recommendations", 2),
    ("shop::checkout::payments", 40),
    ("shop::catalog::search", 9),
    ("shop::catalog::images", 0),
    ("shop::inventory@10.0.0.7:8080", 4),
    ("shop::inventory@10.0.0.8:8080", 0),
    ("shop::reviews", 1),
    ("shop::pricing", 25),
    ("shop::shipping::quotes", 6),
    ("shop::profile", 0),
    ("shop::search::suggest", 12),
    ("shop::ads", 3),
];

/// The breaker the test forces open: closed until then (it never fails).
const FORCED: &str = "shop::catalog::images";

/// The breaker the test puts in fleet mode, with no store to reach.
const FLEET: &str = "shop::ads";

/// The breaker that records its calls' latency.
const TIMED: &str = "shop::pricing";

/// The breaker given a shadow.
const SHADOWED: &str = "shop::search::suggest";

#[test]
fn the_dashboard_lists_every_breaker_and_shows_a_forced_open_circuit_live() {
    let Some(chromium) = chromium() else {
        assert!(
            std::env::var_os("BREAKER_REQUIRE_BROWSER").is_none(),
            "BREAKER_REQUIRE_BROWSER is set but no Chromium was found: install Debian's \
             `chromium` or set CHROMIUM to a Chromium or Chrome binary"
        );
        eprintln!(
            "SKIPPED: no Chromium found (`apt-get install chromium`, or set CHROMIUM); the \
             dashboard's browser test did not run"
        );
        return;
    };
    let breakers = breakers();
    let server =
        support::serve(axum::Router::new().nest_service("/ops", fusebox::http::admin_router()));
    let traffic = thread::spawn(move || traffic(&breakers));
    let url = format!("http://{server}/ops");
    // The first request starts the router's history (it was made outside a runtime): a few
    // seconds of it before the page opens.
    assert_eq!(support::request(server, "GET", "/ops/breakers").0, 200);
    thread::sleep(HISTORY_BEFORE_LOAD);

    let mut browser = Browser::launch(&chromium);
    let page = browser.open(&url);
    browser.wait_for(&page, "document.body.dataset.ready === 'true'");
    browser.evaluate(&page, "window.notReloaded = true");
    history_on_first_paint(&mut browser, &page);

    every_breaker_has_a_tile(&mut browser, &page);
    let state_of = format!("document.querySelector('.tile[data-name=\"{FORCED}\"]').dataset.state");
    assert_eq!(browser.evaluate(&page, &state_of), "closed");

    // Forced open through the admin route: the tile follows, without a reload.
    let (status, body) = post(server, &format!("/ops/breakers/{FORCED}/force-open"));
    assert_eq!(status, 200, "{body}");
    let forced = Instant::now();
    let turned = browser.wait_for(
        &page,
        &format!("{state_of} === 'forced_open' && window.notReloaded === true"),
    );
    let took = turned.duration_since(forced);
    assert!(
        took <= Duration::from_secs(1),
        "the tile turned open {took:?} after the breaker was forced open"
    );
    eprintln!("the forced-open tile turned open {took:?} after the admin route answered");

    // A breaker in fleet mode whose store is away: its tile says the fleet view is stale.
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .enable_all()
        .build()
        .expect("a Tokio runtime");
    let fleet = {
        let _entered = runtime.enter();
        Fleet::connect(
            "redis://127.0.0.1:1",
            FleetOptions::new().timeout(Duration::from_millis(100)),
        )
        .expect("a fleet client")
    };
    fleet
        .join(registry::get(FLEET).expect("registered"))
        .expect("joined");
    browser.wait_for(
        &page,
        &format!(
            "(() => {{ const f = document.querySelector('.tile[data-name=\"{FLEET}\"] .fleet'); \
             return !f.hidden && f.classList.contains('stale') \
             && f.textContent.includes('STALE: not synced yet'); }})()"
        ),
    );

    latency_lines(&mut browser, &page);
    shadow_line(&mut browser, &page);

    // Let the sparklines fill for a few seconds, then keep a picture of the page.
    thread::sleep(Duration::from_secs(4));
    let picture = browser.call(
        "Page.captureScreenshot",
        json!({"format": "png"}),
        Some(&page),
    );
    let png = base64::engine::general_purpose::STANDARD
        .decode(picture["data"].as_str().expect("screenshot data"))
        .expect("base64 PNG");
    let path = target_dir().join("dashboard.png");
    std::fs::write(&path, png).expect("write the screenshot");
    eprintln!("screenshot: {}", path.display());

    presses_a_button(&mut browser, &page);
    says_a_fleet_breaker_without_a_fleet_decides_alone(&mut browser, &page);
    shows_hostile_names_escaped_and_isolated(&mut browser, &page);
    lists_filters_and_sorts_200_more(&mut browser, &page);

    // Unknown names and actions, as the page's buttons could send them.
    assert_eq!(post(server, "/ops/breakers/no-such-breaker/reset").0, 404);
    assert_eq!(
        post(server, &format!("/ops/breakers/{FORCED}/explode")).0,
        400
    );
    drop(browser);
    fleet.stop();
    drop(traffic); // runs until the process ends
}

/// The forced-open tile's Release button, pressed in the page: the request the page makes is
/// one the admin route accepts (it refuses those a page of another site could make).
fn presses_a_button(browser: &mut Browser, page: &str) {
    let tile = format!(".tile[data-name=\"{FORCED}\"]");
    browser.evaluate(
        page,
        &format!("document.querySelector('{tile} button[data-action=\"release\"]').click()"),
    );
    browser.wait_for(
        page,
        &format!(
            "document.querySelector('{tile}').dataset.state === 'closed' && \
             document.querySelector('{tile} .msg').textContent === 'release: done'"
        ),
    );
    assert_eq!(
        registry::get(FORCED).expect("registered").state(),
        fusebox::State::Closed
    );
}

/// A breaker with `fleet = true` in a process that started no fleet: its tile says so.
fn says_a_fleet_breaker_without_a_fleet_decides_alone(browser: &mut Browser, page: &str) {
    registry::get_or_register(
        "shop::alone",
        Config::builder()
            .fleet(true)
            .build()
            .expect("a valid configuration"),
    );
    browser.wait_for(
        page,
        "(() => { const f = document.querySelector('.tile[data-name=\"shop::alone\"] .fleet'); \
         return f && !f.hidden && f.textContent.startsWith('fleet: not started'); })()",
    );
    registry::remove("shop::alone");
    browser.wait_for(
        page,
        "document.querySelector('.tile[data-name=\"shop::alone\"]') === null",
    );
}

/// Names that would spoof others if rendered as they are: a right-to-left override, a
/// zero-width space, a backslash. Each tile shows them escaped, isolated from the text around
/// them; when the breakers go, so do their tiles.
fn shows_hostile_names_escaped_and_isolated(browser: &mut Browser, page: &str) {
    let hostile = [
        ("spoof::\u{202E}exe.gnp", r"spoof::\u{202E}exe.gnp"),
        ("spoof::pay\u{200B}ments", r"spoof::pay\u{200B}ments"),
        ("spoof::back\\slash", r"spoof::back\\slash"),
    ];
    for (name, _) in hostile {
        registry::get_or_register(name, Config::default());
    }
    for (name, shown) in hostile {
        let tile = format!(
            "[...document.querySelectorAll('.tile')].find(t => t.dataset.name === {})",
            serde_json::to_string(name).expect("JSON")
        );
        browser.wait_for(page, &format!("{tile} !== undefined"));
        let text = browser.evaluate(page, &format!("{tile}.querySelector('.name').textContent"));
        assert_eq!(text, shown, "{name:?}");
        let isolated = browser.evaluate(
            page,
            &format!(
                "(() => {{ const n = {tile}.querySelector('.name'); \
                 return n.children.length === 1 && n.firstElementChild.tagName === 'BDI' \
                 && getComputedStyle(n.firstElementChild).unicodeBidi === 'isolate'; }})()"
            ),
        );
        assert_eq!(isolated, true, "{name:?}");
    }
    for (name, _) in hostile {
        registry::remove(name);
    }
    browser.wait_for(
        page,
        "![...document.querySelectorAll('.tile')].some(t => t.dataset.name.startsWith('spoof::'))",
    );
}

/// With 200 breakers more, the page lists them all, filters by name and sorts by error rate.
fn lists_filters_and_sorts_200_more(browser: &mut Browser, page: &str) {
    let fleet: Vec<_> = (0..200)
        .map(|host| {
            let breaker =
                registry::get_or_register(format!("fleet::host-{host:03}"), Config::default());
            for call in 0..10 {
                let _ = breaker.call(|| {
                    if call < host % 10 {
                        Err("refused")
                    } else {
                        Ok(())
                    }
                });
            }
            breaker
        })
        .collect();
    let total = BREAKERS.len() + fleet.len();
    browser.wait_for(
        page,
        &format!("document.querySelectorAll('.tile').length === {total}"),
    );
    let visible = "[...document.querySelectorAll('.tile')].filter(t => !t.hidden)";
    browser.evaluate(
        page,
        "(() => { const f = document.getElementById('filter'); f.value = 'FLEET::host-01'; \
         f.dispatchEvent(new Event('input', {bubbles: true})); })()",
    );
    browser.wait_for(page, &format!("{visible}.length === 10"));
    browser.evaluate(
        page,
        "(() => { const s = document.getElementById('sort'); s.value = 'error'; \
         s.dispatchEvent(new Event('change', {bubbles: true})); })()",
    );
    // host-019 fails 9 calls in 10, host-010 none: highest error rate first.
    browser.wait_for(
        page,
        &format!(
            "{visible}[0].dataset.name === 'fleet::host-019' && \
             {visible}[9].dataset.name === 'fleet::host-010'"
        ),
    );
}

/// An operator's action, as a script sends it: the status and the body.
fn post(server: SocketAddr, path: &str) -> (u16, String) {
    let (status, _, body) = support::act(server, path);
    (status, body)
}

/// One tile per registered breaker.
fn every_breaker_has_a_tile(browser: &mut Browser, page: &str) {
    let names: Vec<String> = serde_json::from_str(
        browser
            .evaluate(
                page,
                "JSON.stringify([...document.querySelectorAll('.tile')].map(t => t.dataset.name))",
            )
            .as_str()
            .expect("a JSON string"),
    )
    .expect("the tiles' names");
    let mut expected: Vec<&str> = BREAKERS.iter().map(|(name, _)| *name).collect();
    let mut shown: Vec<&str> = names.iter().map(String::as_str).collect();
    expected.sort_unstable();
    shown.sort_unstable();
    assert_eq!(shown, expected, "one tile per registered breaker");
}

/// How long the server samples before the page loads.
const HISTORY_BEFORE_LOAD: Duration = Duration::from_secs(5);

/// A second after the page is ready, the busiest tile's sparkline already holds the seconds the
/// server sampled before it loaded, not only the page's own samples (two a second).
fn history_on_first_paint(browser: &mut Browser, page: &str) {
    thread::sleep(Duration::from_secs(1));
    let points = browser.evaluate(
        page,
        "document.querySelector('.tile[data-name=\"shop::checkout::payments\"] .s-rate')\
         .getAttribute('points').trim().split(/\\s+/).filter(Boolean).length",
    );
    let points = points.as_u64().expect("a count");
    eprintln!("sparkline points one second after load: {points}");
    assert!(
        points >= 6,
        "{points} points: the page drew only its own samples, not the server's history"
    );
}

/// `record_latency`: its tile shows p50 and p99; the others show no latency line.
fn latency_lines(browser: &mut Browser, page: &str) {
    browser.wait_for(
        page,
        &format!(
            "(() => {{ const l = document.querySelector('.tile[data-name=\"{TIMED}\"] .latency'); \
             return !l.hidden && /latency: p50 [0-9.]+ (µs|ms) · p99 [0-9.]+ (µs|ms) over [0-9]+ calls/\
             .test(l.textContent); }})()"
        ),
    );
    let others_hidden = format!(
        "[...document.querySelectorAll('.tile:not([data-name=\"{TIMED}\"]) .latency')]\
         .every(l => l.hidden)"
    );
    assert_eq!(browser.evaluate(page, &others_hidden), true);
}

/// A breaker with a shadow: its tile says what the shadow would have done, with the keys that
/// differ, and offers to promote it; the others show neither.
fn shadow_line(browser: &mut Browser, page: &str) {
    let mut keys = fusebox::PartialConfig::new();
    keys.error_threshold = Some(20);
    registry::get(SHADOWED)
        .expect("registered")
        .set_shadow(&keys)
        .expect("valid keys");
    browser.wait_for(
        page,
        &format!(
            "(() => {{ const t = document.querySelector('.tile[data-name=\"{SHADOWED}\"]'); \
             const s = t.querySelector('.shadow'); \
             return !s.hidden && /^shadow \\(error_threshold 20\\): (closed|open|half-open) · would refuse [0-9]+ good, [0-9]+ failing/\
             .test(s.textContent) \
             && !t.querySelector('button[data-action=\"promote-shadow\"]').hidden; }})()"
        ),
    );
    let others_hidden = format!(
        "[...document.querySelectorAll('.tile:not([data-name=\"{SHADOWED}\"]) .shadow')]\
         .every(s => s.hidden)"
    );
    assert_eq!(browser.evaluate(page, &others_hidden), true);
}

fn chromium() -> Option<PathBuf> {
    if let Some(path) = std::env::var_os("CHROMIUM") {
        return Some(path.into());
    }
    let path = std::env::var_os("PATH")?;
    ["chromium", "chromium-browser", "google-chrome"]
        .iter()
        .flat_map(|name| std::env::split_paths(&path).map(move |dir| dir.join(name)))
        .find(|candidate| candidate.is_file())
}

fn breakers() -> Vec<(std::sync::Arc<CircuitBreaker>, u64)> {
    BREAKERS
        .iter()
        .map(|&(name, one_in)| {
            let config = Config::builder()
                .request_volume_threshold(10)
                .window(Duration::from_secs(5))
                .sleep_window(Duration::from_secs(2))
                .record_latency(name == TIMED)
                .build()
                .expect("a valid configuration");
            (registry::get_or_register(name, config), one_in)
        })
        .collect()
}

/// Calls every breaker, each at its own rate and with its own share of failures, until the
/// process ends.
fn traffic(breakers: &[(std::sync::Arc<CircuitBreaker>, u64)]) {
    // Every how many rounds of 20 ms each breaker is called, so that the request rates (and
    // the circles) differ.
    const EVERY: [u64; 12] = [1, 1, 2, 5, 1, 10, 1, 3, 1, 25, 2, 1];
    for round in 0u64.. {
        for (index, (breaker, one_in)) in breakers.iter().enumerate() {
            if round % EVERY[index % EVERY.len()] != 0 {
                continue;
            }
            let calls = 1 + (index as u64 + round / 50) % 4;
            for call in 0..calls {
                let fails = *one_in > 0 && (round + call) % one_in == 0;
                let result = breaker.call(|| if fails { Err("refused") } else { Ok(()) });
                if result.is_err() && index % 3 == 0 {
                    breaker.fallback_served();
                }
            }
        }
        thread::sleep(Duration::from_millis(20));
    }
}

/// The workspace's target directory (where `.ci/run` looks for the screenshot): this package is
/// `tests/integration` in the workspace, and a relative `CARGO_TARGET_DIR` is taken from the
/// workspace's root, where cargo is run.
fn target_dir() -> PathBuf {
    let workspace = Path::new(env!("CARGO_MANIFEST_DIR"))
        .ancestors()
        .nth(2)
        .expect("the workspace's root");
    workspace.join(std::env::var_os("CARGO_TARGET_DIR").unwrap_or_else(|| "target".into()))
}

/// Headless Chromium, and a `DevTools` protocol connection to it.
struct Browser {
    child: Child,
    socket: WebSocket<MaybeTlsStream<TcpStream>>,
    next_id: u64,
    _profile: TempDir,
}

/// How long the browser may take to start, load the page and render it: generous, for a
/// loaded machine.
const PATIENCE: Duration = Duration::from_secs(30);

impl Browser {
    fn launch(chromium: &PathBuf) -> Browser {
        let profile = TempDir::new();
        let mut child = Command::new(chromium)
            .args([
                "--headless=new",
                "--no-sandbox",
                "--disable-gpu",
                "--disable-dev-shm-usage",
                "--no-first-run",
                "--hide-scrollbars",
                "--window-size=1400,1000",
                "--remote-debugging-port=0",
            ])
            .arg(format!("--user-data-dir={}", profile.0.display()))
            .arg("about:blank")
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .expect("start Chromium");
        // Chromium prints where its DevTools endpoint listens on stderr.
        let stderr = child.stderr.take().expect("Chromium's stderr");
        let (sender, endpoint) = mpsc::channel();
        thread::spawn(move || {
            for line in BufReader::new(stderr).lines().map_while(Result::ok) {
                if let Some(url) = line.strip_prefix("DevTools listening on ") {
                    let _ = sender.send(url.trim().to_owned());
                }
            }
        });
        let endpoint = endpoint
            .recv_timeout(PATIENCE)
            .expect("Chromium printed its DevTools endpoint");
        let (socket, _) = tungstenite::connect(endpoint.as_str()).expect("connect to DevTools");
        Browser {
            child,
            socket,
            next_id: 0,
            _profile: profile,
        }
    }

    /// Opens `url` in a new tab: its session id.
    fn open(&mut self, url: &str) -> String {
        let target = self.call("Target.createTarget", json!({"url": url}), None);
        let attached = self.call(
            "Target.attachToTarget",
            json!({"targetId": target["targetId"], "flatten": true}),
            None,
        );
        attached["sessionId"]
            .as_str()
            .expect("a session id")
            .to_owned()
    }

    /// Sends a command and waits for its answer, skipping the events in between.
    fn call(&mut self, method: &str, params: Value, session: Option<&str>) -> Value {
        self.next_id += 1;
        let id = self.next_id;
        let mut message = json!({"id": id, "method": method});
        message["params"] = params;
        if let Some(session) = session {
            message["sessionId"] = json!(session);
        }
        self.socket
            .send(Message::text(message.to_string()))
            .expect("send to DevTools");
        loop {
            let reply = self.socket.read().expect("read from DevTools");
            let Message::Text(text) = reply else { continue };
            let reply: Value = serde_json::from_str(&text).expect("DevTools sends JSON");
            if reply["id"] == id {
                assert!(reply["error"].is_null(), "{method} failed: {reply}");
                return reply["result"].clone();
            }
        }
    }

    /// The value of a JavaScript expression in the page.
    fn evaluate(&mut self, session: &str, expression: &str) -> Value {
        let result = self.call(
            "Runtime.evaluate",
            json!({"expression": expression, "returnByValue": true}),
            Some(session),
        );
        assert!(
            result["exceptionDetails"].is_null(),
            "`{expression}` threw: {result}"
        );
        result["result"]["value"].clone()
    }

    /// Waits until `condition` is true in the page (while the page loads it may throw: not
    /// yet): when it became so.
    fn wait_for(&mut self, session: &str, condition: &str) -> Instant {
        let deadline = Instant::now() + PATIENCE;
        let guarded =
            format!("(() => {{ try {{ return {condition}; }} catch {{ return false; }} }})()");
        loop {
            if self.evaluate(session, &guarded) == Value::Bool(true) {
                return Instant::now();
            }
            assert!(
                Instant::now() < deadline,
                "`{condition}` still false after {PATIENCE:?}"
            );
            thread::sleep(Duration::from_millis(20));
        }
    }
}

impl Drop for Browser {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A directory that is removed with the value.
struct TempDir(PathBuf);

impl TempDir {
    fn new() -> TempDir {
        let path = std::env::temp_dir().join(format!("breaker-dashboard-{}", std::process::id()));
        std::fs::create_dir_all(&path).expect("make a temporary directory");
        TempDir(path)
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}
