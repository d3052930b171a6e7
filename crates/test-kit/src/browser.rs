//! A real browser for tests: headless Chromium driven through chromedriver (WebDriver, plain
//! HTTP on loopback), with helpers that find things as a person does: by their accessible name
//! and role ([`By`]), as the browser's accessibility tree computes them.
//!
//! ```no_run
//! # async fn example(url: &str) {
//! use test_kit::By;
//! let browser = test_kit::Browser::start().await;
//! browser.goto(url).await;
//! browser.fill("Query", "{ tenants { id } }").await; // the field labelled "Query"
//! browser.click(By::role("button", "Run")).await;
//! browser.wait_for_text("Response body", |text| text.contains("acme-eu")).await;
//! assert!(browser.console_errors().await.is_empty());
//! # }
//! ```
//!
//! Its tests declare `CHROMIUM` and `CHROMEDRIVER` (see [`crate::system_tests`]), which skips
//! them where those are not installed.
//!
//! Each [`Browser`] has its own chromedriver on a free port and its own empty profile, removed
//! when it drops; at most two are open at once in a test binary, the others wait their turn.
//! Chromium runs with the flags this machine needs (no sandbox as root, no background
//! networking) and a host resolver that knows only loopback: a page that tries to reach another
//! host fails to, visibly, instead of waiting for a network that is not there.
//! Every wait is explicit and bounded ([`Browser::wait_for`]); a wait that times out saves a
//! screenshot and the page's source and names them in its panic.

use std::net::{Ipv4Addr, SocketAddr, TcpListener};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use fantoccini::elements::{Element, ElementRef};
use fantoccini::key::Key;
use fantoccini::wd::{Capabilities, WebDriverCompatibleCommand};
use fantoccini::{Client, ClientBuilder, Locator};
use serde_json::{Value, json};

/// How long a wait lasts before the test fails.
const WAIT: Duration = Duration::from_secs(15);
/// How often a wait looks again.
const POLL: Duration = Duration::from_millis(50);
/// The JSON key of an element reference in WebDriver answers.
const ELEMENT_KEY: &str = "element-6066-11e4-a52e-4f735466cecf";

/// Chromium's flags: headless, as root without a sandbox, and nothing of its own on the
/// network (no background requests, updates, sync or QUIC probes).
const CHROMIUM_FLAGS: [&str; 13] = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--no-default-browser-check",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-extensions",
    "--disable-default-apps",
    "--disable-dev-shm-usage",
    // Only loopback names resolve: nothing outside this machine can be reached.
    "--host-resolver-rules=MAP * ~NOTFOUND, EXCLUDE localhost, EXCLUDE 127.0.0.1",
];

/// Browsers open at once in one test binary: tests run in parallel on a machine of two cores,
/// and more Chromiums than that only make every wait longer.
static SLOTS: tokio::sync::Semaphore = tokio::sync::Semaphore::const_new(2);

/// A headless Chromium session with its own chromedriver and profile.
pub struct Browser {
    client: Client,
    /// The WebDriver session, until [`Browser::close`] ends it.
    session: String,
    driver: Driver,
    _slot: tokio::sync::SemaphorePermit<'static>,
}

impl std::fmt::Debug for Browser {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Browser")
            .field("driver", &self.driver.addr)
            .field("session", &self.session)
            .finish_non_exhaustive()
    }
}

/// A chromedriver process and the directory of its profile and log, both gone when it drops.
struct Driver {
    process: Child,
    addr: SocketAddr,
    dir: PathBuf,
}

impl Driver {
    fn start() -> Self {
        let dir = fresh_profile_dir();
        let port = free_port();
        let process = Command::new("chromedriver")
            .arg(format!("--port={port}"))
            .arg(format!(
                "--log-path={}",
                dir.join("chromedriver.log").display()
            ))
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("chromedriver starts");
        Self {
            process,
            addr: SocketAddr::from((Ipv4Addr::LOCALHOST, port)),
            dir,
        }
    }

    /// The end of chromedriver's log, to explain a failure.
    fn log_tail(&self) -> String {
        let log = std::fs::read_to_string(self.dir.join("chromedriver.log")).unwrap_or_default();
        let start = log.len().saturating_sub(2000);
        log.get(start..).unwrap_or_default().to_owned()
    }
}

impl Drop for Driver {
    fn drop(&mut self) {
        let _ = self.process.kill();
        let _ = self.process.wait();
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

impl Browser {
    /// A 1280×900 window.
    pub async fn start() -> Self {
        Self::start_sized(1280, 900).await
    }

    /// As [`Browser::start`], with a window of `width`×`height` CSS pixels (headless Chromium
    /// makes windows at least 500 pixels wide: for a phone, see [`Browser::start_phone`]).
    pub async fn start_sized(width: u32, height: u32) -> Self {
        Self::launch(Screen::Window { width, height }).await
    }

    /// As [`Browser::start`], emulating a phone's screen of `width`×`height` CSS pixels (a
    /// touch screen, the mobile viewport rules).
    pub async fn start_phone(width: u32, height: u32) -> Self {
        Self::launch(Screen::Phone { width, height }).await
    }

    async fn launch(screen: Screen) -> Self {
        let slot = SLOTS.acquire().await.expect("the browser slots stay open");
        let driver = Driver::start();
        let client = connect(&driver, screen).await;
        let session = client
            .session_id()
            .await
            .expect("a WebDriver session")
            .unwrap_or_default();
        Self {
            client,
            session,
            driver,
            _slot: slot,
        }
    }

    /// The WebDriver client, for whatever the helpers below do not cover.
    pub fn client(&self) -> &Client {
        &self.client
    }

    /// Opens `url` and waits for its `load` event.
    pub async fn goto(&self, url: &str) {
        self.client
            .goto(url)
            .await
            .unwrap_or_else(|e| panic!("cannot open {url}: {e}"));
    }

    /// Resizes the window (CSS pixels).
    pub async fn resize(&self, width: u32, height: u32) {
        self.client
            .set_window_size(width, height)
            .await
            .expect("the window resizes");
    }

    /// Waits until `probe` answers `Some`, looking again every 50 ms for at most 15 s; then
    /// fails, saying `what` was awaited, with a screenshot and the page's source saved.
    pub async fn wait_for<T>(&self, what: &str, mut probe: impl AsyncFnMut() -> Option<T>) -> T {
        let deadline = Instant::now() + WAIT;
        loop {
            if let Some(found) = probe().await {
                return found;
            }
            if Instant::now() >= deadline {
                let saved = self.save_evidence(what).await;
                panic!("timed out after {WAIT:?} waiting for {what}; {saved}");
            }
            tokio::time::sleep(POLL).await;
        }
    }

    /// The first displayed element `by` designates.
    pub async fn find<'a>(&self, by: impl Into<By<'a>>) -> Element {
        self.find_sought(&Sought::new(by.into(), &[])).await
    }

    /// Clicks what `by` designates; a bare name means a button or link of that name.
    pub async fn click<'a>(&self, by: impl Into<By<'a>>) {
        let sought = Sought::new(by.into(), &["button", "link"]);
        let element = self.find_sought(&sought).await;
        element
            .click()
            .await
            .unwrap_or_else(|e| panic!("cannot click {sought}: {e}"));
    }

    /// Replaces the value of a field by typing `text`, as a person would; a bare name means a
    /// field of that name.
    pub async fn fill<'a>(&self, by: impl Into<By<'a>>, text: &str) {
        let sought = Sought::new(by.into(), &FIELD_ROLES);
        let element = self.find_sought(&sought).await;
        element
            .clear()
            .await
            .unwrap_or_else(|e| panic!("cannot clear {sought}: {e}"));
        element
            .send_keys(text)
            .await
            .unwrap_or_else(|e| panic!("cannot type into {sought}: {e}"));
    }

    /// Types `keys` into a field where its caret is (WebDriver key codes work:
    /// `format!("{}{}", Key::Control, Key::Enter)` is Ctrl+Enter, see [`fantoccini::key::Key`]).
    pub async fn type_keys<'a>(&self, by: impl Into<By<'a>>, keys: &str) {
        let sought = Sought::new(by.into(), &FIELD_ROLES);
        let element = self.find_sought(&sought).await;
        element
            .send_keys(keys)
            .await
            .unwrap_or_else(|e| panic!("cannot type into {sought}: {e}"));
    }

    /// Chooses the option labelled `option` in a select.
    pub async fn select<'a>(&self, by: impl Into<By<'a>>, option: &str) {
        let sought = Sought::new(by.into(), &["combobox", "listbox"]);
        let element = self.find_sought(&sought).await;
        // By text compared here, not by fantoccini's XPath, which a quote in the label breaks.
        let options = element
            .find_all(Locator::Css("option"))
            .await
            .unwrap_or_else(|e| panic!("{sought} has no options: {e}"));
        for candidate in options {
            if normalize(&candidate.text().await.unwrap_or_default()) == normalize(option) {
                candidate
                    .click()
                    .await
                    .unwrap_or_else(|e| panic!("cannot choose {option:?} in {sought}: {e}"));
                return;
            }
        }
        panic!("{sought} has no option {option:?}");
    }

    /// The current value of a field; a bare name means a field of that name.
    pub async fn value<'a>(&self, by: impl Into<By<'a>>) -> String {
        let element = self
            .find_sought(&Sought::new(by.into(), &FIELD_ROLES))
            .await;
        element
            .prop("value")
            .await
            .ok()
            .flatten()
            .unwrap_or_default()
    }

    /// The rendered text of what `by` designates.
    pub async fn text<'a>(&self, by: impl Into<By<'a>>) -> String {
        let element = self.find(by).await;
        element.text().await.unwrap_or_default()
    }

    /// The rendered text of what `by` designates, once `ready` accepts it.
    pub async fn wait_for_text<'a>(
        &self,
        by: impl Into<By<'a>>,
        ready: impl Fn(&str) -> bool,
    ) -> String {
        let sought = Sought::new(by.into(), &[]);
        self.wait_for(&format!("the expected text in {sought}"), async || {
            let element = self.locate(&sought).await?;
            let text = element.text().await.ok()?;
            ready(&text).then_some(text)
        })
        .await
    }

    async fn find_sought(&self, sought: &Sought<'_>) -> Element {
        self.wait_for(&sought.to_string(), async || self.locate(sought).await)
            .await
    }

    /// Saves a PNG of the window to `path`.
    pub async fn screenshot(&self, path: &Path) {
        let png = self.client.screenshot().await.expect("a screenshot");
        std::fs::write(path, png).unwrap_or_else(|e| panic!("cannot write {path:?}: {e}"));
    }

    /// Runs `script` in the page (its `arguments` are `args`) and returns what it returns.
    pub async fn eval(&self, script: &str, args: Vec<Value>) -> Value {
        self.client
            .execute(script, args)
            .await
            .unwrap_or_else(|e| panic!("the script failed: {e}\n{script}"))
    }

    /// The browser's console messages since the last call, as `LEVEL message` (Chromium
    /// reports CSP violations and failed loads there at `SEVERE`).
    pub async fn console(&self) -> Vec<String> {
        self.browser_log()
            .await
            .unwrap_or_else(|e| panic!("no browser log from chromedriver (se/log): {e}"))
    }

    /// The console's errors since the last call to [`Browser::console`] or this.
    pub async fn console_errors(&self) -> Vec<String> {
        self.console()
            .await
            .into_iter()
            .filter(|line| line.starts_with("SEVERE"))
            .collect()
    }

    /// Every URL the page loaded or requested (itself, scripts, styles, `fetch`es), from the
    /// browser's resource timing.
    pub async fn requested_urls(&self) -> Vec<String> {
        let urls = self
            .eval(
                "return performance.getEntries()
                   .filter((e) => e.entryType === 'navigation' || e.entryType === 'resource')
                   .map((e) => e.name);",
                vec![],
            )
            .await;
        urls.as_array()
            .into_iter()
            .flatten()
            .filter_map(|u| u.as_str().map(str::to_owned))
            .collect()
    }

    /// Moves the focus with Tab, as a keyboard user does, until it is on the control whose
    /// accessible name is `name`; fails after 80 presses (unreachable by keyboard, or a trap).
    pub async fn tab_to(&self, name: &str) -> Element {
        let mut passed = Vec::new();
        for _ in 0..80 {
            self.press(&Key::Tab.to_string()).await;
            let focused = self
                .client
                .active_element()
                .await
                .expect("an element has the focus");
            let label = self.computed_label(&focused).await.unwrap_or_default();
            if normalize(&label) == normalize(name) {
                return focused;
            }
            passed.push(label);
        }
        panic!("Tab never reached {name:?}; it went through {passed:?}");
    }

    /// Sends `keys` to whatever has the focus (the page's body when nothing does).
    pub async fn press(&self, keys: &str) {
        let focused = self
            .client
            .active_element()
            .await
            .expect("an element has the focus");
        focused
            .send_keys(keys)
            .await
            .unwrap_or_else(|e| panic!("cannot press {keys:?}: {e}"));
    }

    /// The displayed controls (buttons, links, fields, selects, focusable elements) that have
    /// no accessible name, each as `tag#id.class`.
    pub async fn unnamed_controls(&self) -> Vec<String> {
        let controls = self
            .client
            .find_all(Locator::Css(CONTROLS))
            .await
            .expect("the page's controls");
        let mut unnamed = Vec::new();
        for control in controls {
            if !control.is_displayed().await.unwrap_or(false) {
                continue;
            }
            let label = self
                .computed_label(&control)
                .await
                .expect("chromedriver computes accessible names (WebDriver Get Computed Label)");
            if label.trim().is_empty() {
                unnamed.push(describe(&control).await);
            }
        }
        unnamed
    }

    /// Ends the session and Chromium with it.
    pub async fn close(mut self) {
        let _ = self.client.clone().close().await;
        self.session.clear();
    }

    async fn browser_log(&self) -> Result<Vec<String>, fantoccini::error::CmdError> {
        let answer = self
            .client
            .issue_cmd(SessionCommand::post("se/log", json!({"type": "browser"})))
            .await?;
        Ok(answer
            .as_array()
            .into_iter()
            .flatten()
            .map(|entry| {
                format!(
                    "{} {}",
                    entry["level"].as_str().unwrap_or("?"),
                    entry["message"].as_str().unwrap_or("")
                )
            })
            .collect())
    }

    /// The first element sought that is displayed now.
    async fn locate(&self, sought: &Sought<'_>) -> Option<Element> {
        let candidates = match sought.by {
            By::Css(selector) => self.client.find_all(Locator::Css(selector)).await.ok()?,
            By::Name(name) | By::Role(_, name) => self.candidates(name, &sought.roles).await?,
        };
        for element in candidates {
            if !element.is_displayed().await.unwrap_or(false) {
                continue;
            }
            // The page's guess, checked against the browser's own accessibility tree where
            // chromedriver offers it.
            if let By::Name(name) | By::Role(_, name) = sought.by
                && self
                    .computed_label(&element)
                    .await
                    .is_some_and(|label| normalize(&label) != normalize(name))
            {
                continue;
            }
            if !sought.roles.is_empty()
                && self
                    .computed_role(&element)
                    .await
                    .is_some_and(|role| !sought.roles.contains(&role.as_str()))
            {
                continue;
            }
            return Some(element);
        }
        None
    }

    /// The elements the page guesses are named `name` (with one of `roles`, when given).
    async fn candidates(&self, name: &str, roles: &[&str]) -> Option<Vec<Element>> {
        let found = self
            .client
            .execute(FIND_BY_NAME, vec![json!(name), json!(roles)])
            .await
            .ok()?;
        Some(
            found
                .as_array()
                .into_iter()
                .flatten()
                .filter_map(|candidate| candidate[ELEMENT_KEY].as_str())
                .map(|id| {
                    Element::from_element_id(self.client.clone(), ElementRef::from(id.to_owned()))
                })
                .collect(),
        )
    }

    /// The role the browser computes (WebDriver "Get Computed Role"); `None` when the driver
    /// does not offer it.
    async fn computed_role(&self, element: &Element) -> Option<String> {
        let path = format!("element/{}/computedrole", element.element_id());
        let answer = self
            .client
            .issue_cmd(SessionCommand::get(&path))
            .await
            .ok()?;
        answer.as_str().map(str::to_owned)
    }

    /// The accessible name the browser computes (WebDriver "Get Computed Label"); `None` when
    /// the driver does not offer it.
    async fn computed_label(&self, element: &Element) -> Option<String> {
        let path = format!("element/{}/computedlabel", element.element_id());
        let answer = self
            .client
            .issue_cmd(SessionCommand::get(&path))
            .await
            .ok()?;
        answer.as_str().map(str::to_owned)
    }

    /// Saves a screenshot and the page's source for a failed wait; says where.
    async fn save_evidence(&self, what: &str) -> String {
        let dir = std::env::temp_dir().join("tenantgraph-browser-failures");
        let _ = std::fs::create_dir_all(&dir);
        let stem: String = what
            .chars()
            .map(|c| if c.is_ascii_alphanumeric() { c } else { '-' })
            .take(60)
            .collect();
        let stem = format!("{stem}-{}", std::process::id());
        let png = dir.join(format!("{stem}.png"));
        let html = dir.join(format!("{stem}.html"));
        if let Ok(bytes) = self.client.screenshot().await {
            let _ = std::fs::write(&png, bytes);
        }
        if let Ok(source) = self.client.source().await {
            let _ = std::fs::write(&html, source);
        }
        let console = self.browser_log().await.unwrap_or_default();
        format!(
            "screenshot {}, page {}; console: {console:?}",
            png.display(),
            html.display()
        )
    }
}

impl Drop for Browser {
    fn drop(&mut self) {
        // A test that panicked never reached `close`: end the session synchronously, so that
        // chromedriver quits its Chromium before the driver is killed (when it drops, next).
        if !self.session.is_empty() {
            delete_session(self.driver.addr, &self.session);
        }
    }
}

/// The screen a browser shows pages on.
#[derive(Debug, Clone, Copy)]
enum Screen {
    Window { width: u32, height: u32 },
    Phone { width: u32, height: u32 },
}

/// Starts a session on `driver` as soon as it listens.
async fn connect(driver: &Driver, screen: Screen) -> Client {
    let mut args: Vec<String> = CHROMIUM_FLAGS.iter().map(|f| (*f).to_owned()).collect();
    args.push(format!(
        "--user-data-dir={}",
        driver.dir.join("chromium").display()
    ));
    let mut options = json!({ "args": args });
    match screen {
        Screen::Window { width, height } => {
            options["args"]
                .as_array_mut()
                .expect("args are a list")
                .push(json!(format!("--window-size={width},{height}")));
        }
        Screen::Phone { width, height } => {
            options["mobileEmulation"] = json!({
                "deviceMetrics": { "width": width, "height": height, "pixelRatio": 2, "touch": true },
            });
        }
    }
    if let Some(binary) = on_path("chromium") {
        options["binary"] = json!(binary);
    }
    let capabilities: Capabilities = serde_json::from_value(json!({
        "browserName": "chrome",
        "goog:chromeOptions": options,
        "goog:loggingPrefs": { "browser": "ALL" },
    }))
    .expect("capabilities are a JSON object");
    let url = format!("http://{}", driver.addr);
    let deadline = Instant::now() + WAIT;
    loop {
        let connector = hyper_util::client::legacy::connect::HttpConnector::new();
        match ClientBuilder::new(connector)
            .capabilities(capabilities.clone())
            .connect(&url)
            .await
        {
            Ok(client) => return client,
            Err(error) if Instant::now() >= deadline => panic!(
                "no WebDriver session from chromedriver at {url}: {error}\n{}",
                driver.log_tail()
            ),
            Err(_) => tokio::time::sleep(Duration::from_millis(100)).await,
        }
    }
}

/// A command under `/session/{id}/` that fantoccini has no method for.
#[derive(Debug)]
struct SessionCommand {
    method: http::Method,
    path: String,
    body: Option<Value>,
}

impl SessionCommand {
    fn get(path: &str) -> Self {
        Self {
            method: http::Method::GET,
            path: path.to_owned(),
            body: None,
        }
    }

    fn post(path: &str, body: Value) -> Self {
        Self {
            method: http::Method::POST,
            path: path.to_owned(),
            body: Some(body),
        }
    }
}

impl WebDriverCompatibleCommand for SessionCommand {
    fn endpoint(
        &self,
        base: &url::Url,
        session: Option<&str>,
    ) -> Result<url::Url, url::ParseError> {
        base.join(&format!(
            "session/{}/{}",
            session.unwrap_or_default(),
            self.path
        ))
    }

    fn method_and_body(&self, _url: &url::Url) -> (http::Method, Option<String>) {
        (
            self.method.clone(),
            self.body.as_ref().map(Value::to_string),
        )
    }
}

/// `DELETE /session/{id}` without a runtime: Drop may run outside one, or during a panic.
fn delete_session(addr: SocketAddr, session: &str) {
    use std::io::{Read, Write};
    let Ok(mut stream) = std::net::TcpStream::connect_timeout(&addr, Duration::from_secs(2)) else {
        return;
    };
    let _ = stream.set_read_timeout(Some(Duration::from_secs(10)));
    let request = format!(
        "DELETE /session/{session} HTTP/1.1\r\nHost: {addr}\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"
    );
    if stream.write_all(request.as_bytes()).is_ok() {
        let mut answer = Vec::new();
        let _ = stream.read_to_end(&mut answer);
    }
}

/// How a test designates an element: as a person would, by accessible name (and role), or by
/// a CSS selector when nothing else will do. A bare `&str` is a name.
#[derive(Debug, Clone, Copy)]
pub enum By<'a> {
    /// Whatever has this accessible name: a field by its label, a button by its text, a region
    /// by its heading. [`Browser::click`] takes it for a button or link, [`Browser::fill`] for
    /// a field.
    Name(&'a str),
    /// An element of this ARIA role (`button`, `link`, `textbox`, `combobox`, `list`, `region`,
    /// `heading`, …) with this accessible name.
    Role(&'a str, &'a str),
    Css(&'a str),
}

impl<'a> By<'a> {
    /// `By::role("button", "Run")`.
    pub fn role(role: &'a str, name: &'a str) -> Self {
        Self::Role(role, name)
    }

    pub fn css(selector: &'a str) -> Self {
        Self::Css(selector)
    }
}

impl<'a> From<&'a str> for By<'a> {
    fn from(name: &'a str) -> Self {
        Self::Name(name)
    }
}

impl<'a> From<&'a String> for By<'a> {
    fn from(name: &'a String) -> Self {
        Self::Name(name)
    }
}

/// What a person can operate: links, buttons, fields, anything focusable, widget roles.
const CONTROLS: &str = "a[href], button, input, select, textarea, [tabindex]:not([tabindex='-1']), \
    [role=button], [role=link], [role=checkbox], [role=radio], [role=switch], [role=tab], \
    [role=menuitem], [role=option], [role=textbox], [role=searchbox], [role=combobox], \
    [role=slider], [role=spinbutton]";

/// The roles of the fields a person types into.
const FIELD_ROLES: [&str; 4] = ["textbox", "searchbox", "combobox", "spinbutton"];

/// What a helper looks for: `By`, with the roles a bare name stands for there.
struct Sought<'a> {
    by: By<'a>,
    roles: Vec<&'a str>,
}

impl<'a> Sought<'a> {
    fn new(by: By<'a>, bare_name_roles: &[&'a str]) -> Self {
        let roles = match by {
            By::Role(role, _) => vec![role],
            By::Name(_) => bare_name_roles.to_vec(),
            By::Css(_) => Vec::new(),
        };
        Self { by, roles }
    }
}

impl std::fmt::Display for Sought<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let what = if self.roles.is_empty() {
            "element".to_owned()
        } else {
            self.roles.join(" or ")
        };
        match self.by {
            By::Name(name) | By::Role(_, name) => write!(f, "a {what} named {name:?}"),
            By::Css(selector) => write!(f, "an element matching {selector:?}"),
        }
    }
}

/// The accessible-name and role guess made in the page (checked afterwards against the
/// browser's own): `aria-labelledby`, `aria-label`, `<label>`s, then text, value, `title`,
/// `placeholder`, `alt`; the explicit role, else the element's implicit one.
const FIND_BY_NAME: &str = r#"
const wanted = arguments[0].replace(/\s+/g, ' ').trim();
const roles = arguments[1];
const norm = (s) => (s || '').replace(/\s+/g, ' ').trim();
const textual = /^(A|BUTTON|SUMMARY|OPTION|LEGEND|CAPTION|H[1-6]|TD|TH)$/;
function name(el) {
  const by = el.getAttribute('aria-labelledby');
  if (by) return norm(by.split(/\s+/).map((id) => (document.getElementById(id) || {}).textContent || '').join(' '));
  const aria = el.getAttribute('aria-label');
  if (aria && aria.trim()) return norm(aria);
  if (el.labels && el.labels.length) return norm([...el.labels].map((l) => l.textContent).join(' '));
  if (textual.test(el.tagName) || ['button', 'link', 'tab', 'menuitem', 'option', 'heading'].includes(el.getAttribute('role'))) return norm(el.textContent);
  if (el.tagName === 'INPUT' && ['button', 'submit', 'reset'].includes(el.type)) return norm(el.value);
  return norm(el.getAttribute('title') || el.getAttribute('placeholder') || el.getAttribute('alt'));
}
function role(el) {
  const explicit = el.getAttribute('role');
  if (explicit) return explicit.trim().split(/\s+/)[0];
  const tag = el.tagName;
  const type = (el.getAttribute('type') || 'text').toLowerCase();
  if (tag === 'BUTTON' || (tag === 'INPUT' && ['button', 'submit', 'reset', 'image'].includes(type))) return 'button';
  if (tag === 'A' && el.hasAttribute('href')) return 'link';
  if (tag === 'TEXTAREA') return 'textbox';
  if (tag === 'INPUT') return { search: 'searchbox', checkbox: 'checkbox', radio: 'radio', number: 'spinbutton', range: 'slider' }[type] || 'textbox';
  if (tag === 'SELECT') return el.multiple || el.size > 1 ? 'listbox' : 'combobox';
  if (/^H[1-6]$/.test(tag)) return 'heading';
  if (tag === 'UL' || tag === 'OL') return 'list';
  if (tag === 'LI') return 'listitem';
  if (tag === 'NAV') return 'navigation';
  if (tag === 'MAIN') return 'main';
  if (tag === 'ASIDE') return 'complementary';
  if (tag === 'SECTION' && (el.hasAttribute('aria-label') || el.hasAttribute('aria-labelledby'))) return 'region';
  return '';
}
return [...document.querySelectorAll('body *')]
  .filter((el) => name(el) === wanted && (roles.length === 0 || roles.includes(role(el))));
"#;

fn normalize(text: &str) -> String {
    text.split_whitespace().collect::<Vec<_>>().join(" ")
}

async fn describe(element: &Element) -> String {
    let tag = element.tag_name().await.unwrap_or_default();
    let id = element.attr("id").await.ok().flatten().unwrap_or_default();
    let class = element
        .attr("class")
        .await
        .ok()
        .flatten()
        .unwrap_or_default();
    format!("{tag}#{id}.{}", class.replace(' ', "."))
}

/// A port that was free a moment ago.
fn free_port() -> u16 {
    TcpListener::bind((Ipv4Addr::LOCALHOST, 0))
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("a free loopback port")
}

/// A new empty directory for one browser's profile and chromedriver's log.
fn fresh_profile_dir() -> PathBuf {
    static NEXT: AtomicUsize = AtomicUsize::new(0);
    let dir = std::env::temp_dir().join(format!(
        "tenantgraph-browser-{}-{}",
        std::process::id(),
        NEXT.fetch_add(1, Ordering::Relaxed)
    ));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).expect("a profile directory");
    dir
}

/// Where `program` is on `PATH`.
fn on_path(program: &str) -> Option<PathBuf> {
    std::env::var_os("PATH").and_then(|paths| {
        std::env::split_paths(&paths)
            .map(|dir| dir.join(program))
            .find(|candidate| candidate.is_file())
    })
}
