//! The pages of the browser sign-in, rendered on the server: the login form (with Auth0's
//! wording and error codes) and Auth0's error pages. Plain HTML and one inline style sheet, no
//! script and nothing fetched from elsewhere; a Content-Security-Policy that allows only that
//! style sheet and forms posting back here, and no framing.

use std::fmt::Write as _;
use std::sync::OnceLock;

use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use rsa::sha2::{Digest as _, Sha256};

use crate::config::Persona;

/// Readable from 320 px up: one column, 16 px text, full-width controls, visible focus.
const CSS: &str = "\
*{box-sizing:border-box}\
body{margin:0;font:16px/1.5 system-ui,-apple-system,\"Segoe UI\",Roboto,sans-serif;\
color:#1e212a;background:#f4f5f7}\
main{max-width:420px;margin:0 auto;padding:24px 16px}\
.card{background:#fff;border-radius:6px;padding:32px 24px;box-shadow:0 1px 4px rgba(0,0,0,.15)}\
h1{font-size:24px;line-height:1.25;margin:0 0 8px;text-align:center}\
h2{font-size:18px;margin:0 0 8px}\
p{margin:0 0 16px;overflow-wrap:anywhere}\
label{display:block;font-weight:600;margin:16px 0 4px}\
input{width:100%;padding:12px;font:inherit;border:1px solid #6b7280;border-radius:4px}\
button{width:100%;margin-top:24px;padding:12px;font:inherit;font-weight:600;color:#fff;\
background:#3f59e4;border:1px solid #3f59e4;border-radius:4px;cursor:pointer}\
button:hover{background:#2f45c0}\
:focus-visible{outline:3px solid #1a56db;outline-offset:2px}\
.error{color:#b00020;margin:8px 0 0}\
.personas{margin-top:32px;border-top:1px solid #d1d5db;padding-top:16px}\
.personas ul{list-style:none;padding:0;margin:0}\
.personas li{margin-top:12px}\
.personas button{margin-top:0;color:#1e212a;background:#fff;border-color:#6b7280}\
.personas button:hover{background:#eef0f4}\
.personas span,.note{display:block;font-size:14px;color:#4b5563;overflow-wrap:anywhere}\
.note{text-align:center;margin-top:24px}\
code{overflow-wrap:anywhere}";

/// The CSP source that allows exactly [`CSS`].
fn style_source() -> &'static str {
    static SOURCE: OnceLock<String> = OnceLock::new();
    SOURCE.get_or_init(|| format!("'sha256-{}'", STANDARD.encode(Sha256::digest(CSS))))
}

/// Escapes text for HTML content and double-quoted attribute values.
pub fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

/// A mistake the login form reports, with Universal Login's error code and default text.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum FormError {
    WrongCredentials,
    NoEmail,
    NoPassword,
    /// The identifier is brute-force-blocked.
    UserBlocked,
    /// A persona that is not (or no longer) offered.
    Failure,
}

impl FormError {
    fn code(self) -> &'static str {
        match self {
            Self::WrongCredentials => "wrong-email-credentials",
            Self::NoEmail => "no-email",
            Self::NoPassword => "no-password",
            Self::UserBlocked => "user-blocked",
            Self::Failure => "authentication-failure",
        }
    }

    fn text(self) -> &'static str {
        match self {
            Self::WrongCredentials => "Wrong email or password",
            Self::NoEmail => "Please enter an email address",
            Self::NoPassword => "Password is required",
            Self::UserBlocked => {
                "Your account has been blocked after multiple consecutive login attempts."
            }
            Self::Failure => "We are sorry, something went wrong when attempting to log in",
        }
    }

    /// The field the message is shown under.
    fn on_email(self) -> bool {
        self == Self::NoEmail
    }
}

/// What the login page shows.
pub struct LoginView<'a> {
    /// The transaction id, the only state the page carries.
    pub transaction: &'a str,
    /// Shown as the company name.
    pub tenant: &'a str,
    /// Shown as the application name.
    pub client: &'a str,
    /// Prefills the email field.
    pub email: Option<&'a str>,
    pub error: Option<FormError>,
    /// Personas whose email is a database user.
    pub personas: &'a [Persona],
    /// Where a successful sign-in redirects, so the policy lets the form's redirect through.
    pub redirect_uri: &'a str,
}

/// The login page: 200 when first shown, 400 when it comes back with an error (as Universal
/// Login answers).
pub fn login(view: &LoginView<'_>) -> Response {
    let client = escape(view.client);
    let action = format!("/u/login?state={}", escape(view.transaction));
    let hidden = format!(
        r#"<input type="hidden" name="state" value="{}">"#,
        escape(view.transaction)
    );
    let mut body = String::new();
    let _ = write!(
        body,
        r#"<h1>Welcome</h1><p>Log in to {tenant} to continue to {client}.</p><form method="post" action="{action}">{hidden}"#,
        tenant = escape(view.tenant),
    );
    let error_for = |email_field: bool| {
        view.error
            .filter(|e| e.on_email() == email_field)
            .map(|e| {
                let id = if email_field { "username" } else { "password" };
                (
                    format!(r#" aria-invalid="true" aria-describedby="error-element-{id}""#),
                    format!(
                        r#"<p id="error-element-{id}" class="error" role="alert" data-error-code="{code}">{text}</p>"#,
                        code = e.code(),
                        text = e.text()
                    ),
                )
            })
            .unwrap_or_default()
    };
    let (email_attributes, email_error) = error_for(true);
    let (password_attributes, password_error) = error_for(false);
    let _ = write!(
        body,
        r#"<label for="username">Email</label><input id="username" name="username" type="email" value="{email}" autocomplete="username" autocapitalize="none" spellcheck="false" required autofocus{email_attributes}>{email_error}<label for="password">Password</label><input id="password" name="password" type="password" autocomplete="current-password" required{password_attributes}>{password_error}<button type="submit" name="action" value="default">Continue</button></form>"#,
        email = escape(view.email.unwrap_or_default()),
    );
    if !view.personas.is_empty() {
        body.push_str(
            r#"<section class="personas" aria-labelledby="personas-title"><h2 id="personas-title">Personas</h2><p>Emulator only: sign in as one of these users without a password.</p><ul>"#,
        );
        for persona in view.personas {
            let _ = write!(
                body,
                r#"<li><form method="post" action="{action}">{hidden}<input type="hidden" name="persona" value="{label}"><button type="submit">Sign in as {label}</button></form><span>{email}</span></li>"#,
                label = escape(&persona.label),
                email = escape(&persona.email),
            );
        }
        body.push_str("</ul></section>");
    }
    let status = if view.error.is_some() {
        StatusCode::BAD_REQUEST
    } else {
        StatusCode::OK
    };
    let form_action = match origin(view.redirect_uri) {
        Some(origin) => format!("'self' {origin}"),
        // A custom scheme (a native app): allow the scheme alone.
        None => view.redirect_uri.split_once(':').map_or_else(
            || "'self'".to_owned(),
            |(scheme, _)| format!("'self' {scheme}:"),
        ),
    };
    html(status, &format!("Log in | {client}"), &body, &form_action)
}

/// `scheme://host[:port]` of an http(s) URL.
fn origin(url: &str) -> Option<&str> {
    let rest = url
        .strip_prefix("https://")
        .or_else(|| url.strip_prefix("http://"))?;
    let end = rest.find(['/', '?', '#']).unwrap_or(rest.len());
    let scheme = url.len() - rest.len();
    Some(&url[..scheme + end])
}

const GENERIC: &str = "There could be a misconfiguration in the system or a service outage. We \
    track these errors automatically, but if the problem persists feel free to contact us. \
    Please try again.";

/// Auth0's generic error page, with the error in its technical details.
pub fn error(error: &str, description: &str) -> Response {
    let body = format!(
        "<h1>Oops!, something went wrong</h1><p>{GENERIC}</p>{}",
        details(error, description)
    );
    html(StatusCode::BAD_REQUEST, "Error", &body, "'none'")
}

/// The page Auth0 shows for a `redirect_uri` the application does not allow.
pub fn callback_mismatch(redirect_uri: &str) -> Response {
    let description = format!(
        "Callback URL mismatch. {redirect_uri} is not in the list of allowed callback URLs"
    );
    let body = format!(
        "<h1>Callback URL mismatch.</h1><p>The provided redirect_uri is not in the list of \
         allowed callback URLs.</p><p>Please go to the Application Settings page and make sure \
         you are sending a valid callback url from your application.</p>{}",
        details("unauthorized_client", &description)
    );
    html(StatusCode::BAD_REQUEST, "Error", &body, "'none'")
}

/// A login transaction that is gone or belongs to another browser, in Auth0's words.
pub fn lost_session() -> Response {
    error(
        "invalid_request",
        "You may have pressed the back button, refreshed during login, opened too many login \
         dialogs, or there is some issue with cookies, since we couldn't find your session. Try \
         logging in again from the application and if the problem persists please contact the \
         administrator.",
    )
}

fn details(error: &str, description: &str) -> String {
    format!(
        "<section><h2>Technical details</h2><p><code>{}: {}</code></p></section>",
        escape(error),
        escape(description)
    )
}

fn html(status: StatusCode, title: &str, body: &str, form_action: &str) -> Response {
    let page = format!(
        "<!DOCTYPE html><html lang=\"en\"><head><meta charset=\"utf-8\"><meta name=\"viewport\" \
         content=\"width=device-width, initial-scale=1\"><title>{title}</title><style>{CSS}\
         </style></head><body><main><div class=\"card\">{body}</div><p class=\"note\">\
         tenant-emulator: a local stand-in for Auth0, not Auth0.</p></main></body></html>"
    );
    let policy = format!(
        "default-src 'none'; style-src {}; form-action {form_action}; frame-ancestors 'none'; \
         base-uri 'none'",
        style_source()
    );
    let mut response = (status, page).into_response();
    let headers = response.headers_mut();
    headers.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/html; charset=utf-8"),
    );
    // A callback URL that cannot sit in a header loses its styles rather than its protection.
    let policy = HeaderValue::from_str(&policy)
        .unwrap_or_else(|_| HeaderValue::from_static("default-src 'none'; frame-ancestors 'none'"));
    headers.insert(header::CONTENT_SECURITY_POLICY, policy);
    headers.insert(header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
    headers.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    // The URL carries the transaction id; keep it from other sites.
    headers.insert(
        header::REFERRER_POLICY,
        HeaderValue::from_static("no-referrer"),
    );
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    response
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escape_neutralises_markup_and_quotes() {
        assert_eq!(
            escape(r#"<a href="x" onclick='y'>&</a>"#),
            "&lt;a href=&quot;x&quot; onclick=&#39;y&#39;&gt;&amp;&lt;/a&gt;"
        );
    }

    #[test]
    fn origin_keeps_scheme_host_and_port_only() {
        assert_eq!(
            origin("http://localhost:3000/callback?x=1"),
            Some("http://localhost:3000")
        );
        assert_eq!(origin("https://app.test"), Some("https://app.test"));
        assert_eq!(origin("com.example.app://callback"), None);
    }
}
