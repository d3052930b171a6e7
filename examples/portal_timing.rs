//! How fast the portal's pages answer with a warm cache: server-rendered pages are meant to
//! answer well under 100 ms.
//!
//! ```sh
//! cargo run --release --example portal_timing                    # 200 loads of each page
//! cargo run --release --example portal_timing -- --requests 500
//! ```
//!
//! Flags: `--requests N` (sequential loads of each page, default 200), `--users N` (seeded per
//! tenant, default 1,000 as in `tenantgraph demo`), `--seed S`.
//!
//! It starts the demo environment in this process as the tests do ([`test_kit::spawn_with`]:
//! three emulated tenants, the operator issuer, a gateway with the portal on loopback), signs
//! global_admin in to `/admin/` and acme-eu's end user to `/account/` through the emulated login
//! pages, loads each page once to warm the caches, then loads each page `--requests` times one
//! after another and prints p50, p90, p99 and max per page, the calls the tenants received
//! meanwhile (none, unless the page reads something never cached), and whether every answer was
//! a 200 (if not, it exits with an error).
//!
//! Times are taken at the client, from sending the request to the last byte of the body, over
//! loopback with the client in the same process: an upper bound of the server's time.

use std::time::{Duration, Instant};

use anyhow::{Context as _, bail};
use clap::Parser;
use reqwest::StatusCode;
use test_kit::{HttpBrowser, Options, Page, TestApp};

use Signed::{Account, Admin};

#[derive(Parser, Debug)]
#[command(about = "Time the portal's pages with a warm cache (see the file's doc)")]
struct Cli {
    /// Sequential loads of each page, after one warm-up load.
    #[arg(long, default_value_t = 200)]
    requests: usize,
    /// Users seeded per tenant.
    #[arg(long, default_value_t = 1000)]
    users: usize,
    #[arg(long, default_value_t = 1)]
    seed: u64,
}

/// Which signed-in browser loads a page.
#[derive(Clone, Copy)]
enum Signed {
    Admin,
    Account,
}

struct Timed {
    name: &'static str,
    path: String,
    times: Vec<Duration>,
    not_ok: Vec<StatusCode>,
    /// The size of the warm-up answer's body.
    bytes: usize,
    /// Calls the tenants received during the timed loads (token requests excluded).
    upstream: u64,
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let cli = Cli::parse();
    if cli.requests == 0 {
        bail!("--requests must be at least 1");
    }
    let app = test_kit::spawn_with(Options {
        users: cli.users,
        seed: cli.seed,
        ..Options::default()
    })
    .await;
    eprintln!(
        "demo environment up ({} users per tenant), portal at {}",
        cli.users,
        app.base()
    );

    let mut admin = HttpBrowser::new(&app.base());
    let home = admin.sign_in_as("/admin/", "global_admin").await;
    expect_ok(&home, "global_admin's sign-in")?;
    let mut account = HttpBrowser::new(&app.base());
    let login = account.open("/account/login?tenant=acme-eu").await;
    let me = account.click(&login, "Sign in as user", &[]).await;
    expect_ok(&me, "the end user's sign-in")?;

    let email = app
        .sign_ins
        .iter()
        .find(|s| s.persona == "user" && s.issuer == "acme-eu")
        .map(|s| s.email.clone())
        .context("acme-eu has no end-user persona")?;
    let person = format!("/admin/person?email={}", email.replace('@', "%40"));
    let search = "/admin/users?q=email_verified%3Atrue".to_owned();
    let found = admin.get(&search).await;
    expect_ok(&found, "the search")?;
    let user = user_link(&found).context("the search found no user")?;

    let pages = [
        ("Dashboard", Admin, "/admin/dashboard".to_owned()),
        ("Tenants", Admin, "/admin/tenants".to_owned()),
        ("Users search", Admin, search),
        ("Person", Admin, person),
        ("User page", Admin, user),
        ("Create user form", Admin, "/admin/users/new".to_owned()),
        ("Data-subject requests", Admin, "/admin/gdpr".to_owned()),
        ("Audit", Admin, "/admin/audit".to_owned()),
        ("Account", Account, "/account/".to_owned()),
    ];

    let mut timed = Vec::with_capacity(pages.len());
    for (name, signed, path) in pages {
        let browser = match signed {
            Admin => &mut admin,
            Account => &mut account,
        };
        let warm = browser.get(&path).await;
        expect_ok(&warm, name)?;
        let calls_before = upstream_calls(&app);
        let mut times = Vec::with_capacity(cli.requests);
        let mut not_ok = Vec::new();
        for _ in 0..cli.requests {
            let started = Instant::now();
            let page = browser.get(&path).await;
            times.push(started.elapsed());
            if page.status != StatusCode::OK {
                not_ok.push(page.status);
            }
        }
        timed.push(Timed {
            name,
            path,
            times,
            not_ok,
            bytes: warm.body.len(),
            upstream: upstream_calls(&app) - calls_before,
        });
    }

    if !report(&timed, cli.requests) {
        bail!("some pages did not answer 200");
    }
    Ok(())
}

/// Calls the three tenants have received, token requests excluded.
fn upstream_calls(app: &TestApp) -> u64 {
    app.upstream_calls().values().sum()
}

fn expect_ok(page: &Page, what: &str) -> anyhow::Result<()> {
    if page.status != StatusCode::OK {
        bail!("{what}: {} at {}: {}", page.status, page.url, page.text());
    }
    Ok(())
}

/// The first link to a user's page.
fn user_link(page: &Page) -> Option<String> {
    let start = page.body.find("href=\"/admin/user/")? + "href=\"".len();
    let end = page.body[start..].find('"')? + start;
    Some(page.body[start..end].replace("&amp;", "&"))
}

fn millis(d: Duration) -> f64 {
    d.as_secs_f64() * 1000.0
}

/// The nearest-rank percentile `p` (0 < p ≤ 100) of sorted times.
fn percentile(sorted: &[Duration], p: f64) -> Duration {
    let rank = ((p / 100.0) * sorted.len() as f64).ceil() as usize;
    sorted[rank.clamp(1, sorted.len()) - 1]
}

/// Prints the table; answers whether every page answered 200 every time.
fn report(pages: &[Timed], requests: usize) -> bool {
    println!();
    println!(
        "Portal pages with a warm cache: {requests} sequential loads each, after one warm-up load"
    );
    println!(
        "Client-side times over loopback (request sent to body read): an upper bound of server time"
    );
    println!();
    println!(
        "{:<22} {:>8} {:>8} {:>8} {:>8} {:>6} {:>9}  status",
        "page", "p50 ms", "p90 ms", "p99 ms", "max ms", "KB", "upstream"
    );
    let mut all_ok = true;
    for page in pages {
        let mut sorted = page.times.clone();
        sorted.sort_unstable();
        let status = if page.not_ok.is_empty() {
            "all 200".to_owned()
        } else {
            all_ok = false;
            format!("{} not 200, first {}", page.not_ok.len(), page.not_ok[0])
        };
        println!(
            "{:<22} {:>8.2} {:>8.2} {:>8.2} {:>8.2} {:>6.1} {:>9}  {status}",
            page.name,
            millis(percentile(&sorted, 50.0)),
            millis(percentile(&sorted, 90.0)),
            millis(percentile(&sorted, 99.0)),
            millis(sorted.last().copied().unwrap_or_default()),
            page.bytes as f64 / 1024.0,
            page.upstream,
        );
    }
    println!();
    println!(
        "KB: the page's body; upstream: calls the tenants received during the {requests} loads"
    );
    println!(
        "every page answered 200: {}",
        if all_ok { "yes" } else { "NO" }
    );
    for page in pages {
        println!("  {:<22} {}", page.name, page.path);
    }
    all_ok
}
