//! A browser at the HTTP level, for the portal's tests: it keeps cookies as a browser on
//! 127.0.0.1 does (by name, across ports: cookies ignore ports), follows redirects when asked,
//! reads forms and "clicks" buttons by posting the form around them, and signs a persona in
//! through the emulated login page.

use std::collections::HashMap;

use reqwest::redirect::Policy;
use reqwest::{Client, StatusCode};

/// One answer, read whole.
#[derive(Debug, Clone)]
pub struct Page {
    pub status: StatusCode,
    /// The URL that answered.
    pub url: String,
    pub headers: reqwest::header::HeaderMap,
    pub body: String,
}

/// A form of a page: where it posts, every field with its value, its buttons' text.
#[derive(Debug, Clone)]
pub struct Form {
    pub action: String,
    pub method: String,
    pub fields: Vec<(String, String)>,
    pub buttons: Vec<String>,
}

impl Page {
    pub fn location(&self) -> Option<String> {
        self.headers
            .get("location")
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned)
    }

    pub fn header(&self, name: &str) -> Option<String> {
        self.headers
            .get(name)
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned)
    }

    pub fn forms(&self) -> Vec<Form> {
        forms(&self.body)
    }

    /// The form holding the button whose text is `button`.
    pub fn form_with(&self, button: &str) -> Option<Form> {
        self.forms()
            .into_iter()
            .find(|f| f.buttons.iter().any(|b| b == button))
    }

    /// Every button's text.
    pub fn buttons(&self) -> Vec<String> {
        self.forms().into_iter().flat_map(|f| f.buttons).collect()
    }

    pub fn has_button(&self, text: &str) -> bool {
        self.buttons().iter().any(|b| b == text)
    }

    /// The page's CSRF token (every form carries the same).
    pub fn csrf(&self) -> String {
        self.forms()
            .into_iter()
            .flat_map(|f| f.fields)
            .find(|(name, _)| name == "csrf")
            .map(|(_, value)| value)
            .unwrap_or_else(|| panic!("no CSRF field in {}", self.body))
    }

    /// The page's text with tags removed and entities of the markup decoded.
    pub fn text(&self) -> String {
        let mut text = String::new();
        let mut inside = false;
        for c in self.body.chars() {
            match c {
                '<' => inside = true,
                '>' => {
                    inside = false;
                    text.push(' ');
                }
                _ if !inside => text.push(c),
                _ => {}
            }
        }
        unescape(&text)
            .split_whitespace()
            .collect::<Vec<_>>()
            .join(" ")
    }
}

fn unescape(text: &str) -> String {
    text.replace("&quot;", "\"")
        .replace("&#39;", "'")
        .replace("&lt;", "<")
        .replace("&gt;", ">")
        .replace("&amp;", "&")
}

fn attribute(tag: &str, name: &str) -> Option<String> {
    let head = tag.split('>').next().unwrap_or_default();
    let needle = format!(" {name}=\"");
    let start = head.find(&needle)? + needle.len();
    let end = head[start..].find('"')? + start;
    Some(unescape(&head[start..end]))
}

/// The forms of a page, as this portal and the emulator write them.
pub fn forms(html: &str) -> Vec<Form> {
    html.split("<form")
        .skip(1)
        .map(|chunk| {
            let chunk = chunk.split("</form>").next().unwrap_or_default();
            let mut fields = Vec::new();
            for input in chunk.split("<input").skip(1) {
                if let Some(name) = attribute(input, "name") {
                    fields.push((name, attribute(input, "value").unwrap_or_default()));
                }
            }
            for area in chunk.split("<textarea").skip(1) {
                if let Some(name) = attribute(area, "name") {
                    let inner = area.split_once('>').map_or("", |(_, rest)| rest);
                    let value = inner.split("</textarea>").next().unwrap_or_default();
                    fields.push((name, unescape(value)));
                }
            }
            for select in chunk.split("<select").skip(1) {
                if let Some(name) = attribute(select, "name") {
                    let body = select.split("</select>").next().unwrap_or_default();
                    let selected = body
                        .split("<option")
                        .skip(1)
                        .find(|o| {
                            o.split('>')
                                .next()
                                .unwrap_or_default()
                                .contains(" selected")
                        })
                        .or_else(|| body.split("<option").nth(1))
                        .and_then(|o| attribute(o, "value"))
                        .unwrap_or_default();
                    fields.push((name, selected));
                }
            }
            let buttons = chunk
                .split("<button")
                .skip(1)
                .map(|b| {
                    let inner = b.split_once('>').map_or("", |(_, rest)| rest);
                    unescape(inner.split("</button>").next().unwrap_or_default().trim())
                })
                .collect();
            Form {
                action: attribute(&format!(" {chunk}"), "action").unwrap_or_default(),
                method: attribute(&format!(" {chunk}"), "method")
                    .unwrap_or_else(|| "get".to_owned()),
                fields,
                buttons,
            }
        })
        .collect()
}

/// A browser's cookies and its way of following links.
pub struct HttpBrowser {
    http: Client,
    /// Where relative links lead.
    base: String,
    pub cookies: HashMap<String, String>,
}

impl HttpBrowser {
    /// A browser with no cookies, starting at `base` (`http://127.0.0.1:PORT`).
    pub fn new(base: &str) -> Self {
        Self {
            http: Client::builder()
                .no_proxy()
                .redirect(Policy::none())
                .build()
                .expect("http client"),
            base: base.trim_end_matches('/').to_owned(),
            cookies: HashMap::new(),
        }
    }

    fn url(&self, target: &str) -> String {
        if target.starts_with("http") {
            target.to_owned()
        } else {
            format!("{}{target}", self.base)
        }
    }

    fn cookie_header(&self) -> String {
        self.cookies
            .iter()
            .map(|(k, v)| format!("{k}={v}"))
            .collect::<Vec<_>>()
            .join("; ")
    }

    async fn read(&mut self, url: String, response: reqwest::Response) -> Page {
        for value in response.headers().get_all("set-cookie") {
            let value = value.to_str().expect("ascii cookie");
            let pair = value.split(';').next().unwrap_or_default();
            if let Some((name, cookie)) = pair.split_once('=') {
                let removed = value.contains("Max-Age=0")
                    || value
                        .to_ascii_lowercase()
                        .contains("expires=thu, 01 jan 1970");
                if removed || cookie.is_empty() {
                    self.cookies.remove(name);
                } else {
                    self.cookies.insert(name.to_owned(), cookie.to_owned());
                }
            }
        }
        Page {
            status: response.status(),
            url,
            headers: response.headers().clone(),
            body: response.text().await.unwrap_or_default(),
        }
    }

    /// One GET, redirects not followed.
    pub async fn get(&mut self, target: &str) -> Page {
        let url = self.url(target);
        let response = self
            .http
            .get(&url)
            .header("cookie", self.cookie_header())
            .send()
            .await
            .expect("GET");
        self.read(url, response).await
    }

    /// One POST of a form, redirects not followed; `origin` is sent as a browser would.
    pub async fn post(&mut self, target: &str, fields: &[(String, String)]) -> Page {
        let url = self.url(target);
        let origin = url.split('/').take(3).collect::<Vec<_>>().join("/");
        let response = self
            .http
            .post(&url)
            .header("cookie", self.cookie_header())
            .header("origin", origin)
            .form(fields)
            .send()
            .await
            .expect("POST");
        self.read(url, response).await
    }

    /// Follows redirects from `page` (GETs, as a browser does after 302 and 303).
    pub async fn follow(&mut self, mut page: Page) -> Page {
        for _ in 0..12 {
            let Some(location) = page.location().filter(|_| page.status.is_redirection()) else {
                return page;
            };
            let next = if location.starts_with("http") {
                location
            } else if location.starts_with('/') {
                let origin = page.url.split('/').take(3).collect::<Vec<_>>().join("/");
                format!("{origin}{location}")
            } else {
                location
            };
            page = self.get(&next).await;
        }
        panic!("too many redirects");
    }

    /// GET and follow.
    pub async fn open(&mut self, target: &str) -> Page {
        let page = self.get(target).await;
        self.follow(page).await
    }

    /// Submits the form of `page` holding the button `button`, with `fields` changed or added,
    /// and follows where it leads.
    pub async fn click(&mut self, page: &Page, button: &str, fields: &[(&str, &str)]) -> Page {
        let answer = self.press(page, button, fields).await;
        self.follow(answer).await
    }

    /// As [`HttpBrowser::click`], without following.
    pub async fn press(&mut self, page: &Page, button: &str, fields: &[(&str, &str)]) -> Page {
        let form = page
            .form_with(button)
            .unwrap_or_else(|| panic!("no button {button:?} on {}: {}", page.url, page.text()));
        let mut data = form.fields.clone();
        for (name, value) in fields {
            match data.iter_mut().find(|(n, _)| n == name) {
                Some(field) => field.1 = (*value).to_owned(),
                None => data.push(((*name).to_owned(), (*value).to_owned())),
            }
        }
        // A named button sends its value too (the emulator's "Continue").
        let action = if form.action.is_empty() {
            page.url.clone()
        } else if form.action.starts_with('/') {
            let origin = page.url.split('/').take(3).collect::<Vec<_>>().join("/");
            format!("{origin}{}", form.action)
        } else {
            form.action.clone()
        };
        if form.method.eq_ignore_ascii_case("get") {
            let query = serde_urlencoded::to_string(&data).expect("query");
            return self.get(&format!("{action}?{query}")).await;
        }
        self.post(&action, &data).await
    }

    /// Opens `start` (a portal page), and on the login page it leads to, presses
    /// "Sign in as {persona}"; answers the page the portal then shows.
    pub async fn sign_in_as(&mut self, start: &str, persona: &str) -> Page {
        let login = self.open(start).await;
        assert_eq!(login.status, StatusCode::OK, "{}", login.text());
        self.click(&login, &format!("Sign in as {persona}"), &[])
            .await
    }
}
