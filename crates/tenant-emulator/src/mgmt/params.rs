//! Query-string and body parsing with Auth0's validation answers (its messages come from a JSON
//! schema validator: "Query validation error: '…' on property x (…)").

use axum::body::Bytes;
use axum::extract::{FromRequest, Request};
use axum::http::StatusCode;
use serde_json::{Map, Value};

use crate::errors::ApiError;

/// Auth0 refuses offset paging past the first 1000 results.
pub const RESULT_WINDOW: u64 = 1000;

/// The short description Auth0 appends to a property's validation error.
fn describe(property: &str) -> &'static str {
    match property {
        "page" => "Page index of the results to return. First page is 0.",
        "per_page" => "Number of results per page.",
        "include_totals" => {
            "Return results inside an object that contains the total result count (true) or as \
             a direct array of results (false, default)."
        }
        "include_fields" => {
            "Whether specified fields are to be included (true) or excluded (false)."
        }
        "fields" => {
            "Comma-separated list of fields to include or exclude (based on value provided for \
             include_fields) in the result. Leave empty to retrieve all fields"
        }
        "sort" => {
            "Field to sort by. Use field:order where order is 1 for ascending and -1 for descending"
        }
        "q" => "Query in Lucene query string syntax",
        "search_engine" => "The version of the search engine",
        "from" => "Optional Id from which to start selection.",
        "take" => "Number of results per page. Defaults to 50.",
        "email" => "Email address to search for (case-sensitive).",
        "identifier" => "Should be any of a username, phone number, or email.",
        _ => "",
    }
}

/// `Query validation error: '<detail>' on property <name> (<description>).`
pub fn query_error(property: &str, detail: &str) -> ApiError {
    ApiError::invalid_query(format!(
        "Query validation error: '{detail}' on property {property} ({}).",
        describe(property).trim_end_matches('.')
    ))
}

/// `Payload validation error: '<detail>' on property <name>.`
pub fn body_error(property: &str, detail: &str) -> ApiError {
    ApiError::invalid_body(format!(
        "Payload validation error: '{detail}' on property {property}."
    ))
}

/// The query string of a request, checked against the parameters the endpoint knows.
pub struct QueryParams {
    pairs: Vec<(String, String)>,
}

impl QueryParams {
    /// Parses `raw`; any parameter outside `known` is refused as Auth0's schema does.
    pub fn parse(raw: Option<&str>, known: &[&str]) -> Result<Self, ApiError> {
        let pairs: Vec<(String, String)> = serde_urlencoded::from_str(raw.unwrap_or_default())
            .map_err(|_| {
                ApiError::invalid_query("Query validation error: 'Invalid query string'.")
            })?;
        if let Some((unknown, _)) = pairs.iter().find(|(k, _)| !known.contains(&k.as_str())) {
            return Err(ApiError::invalid_query(format!(
                "Query validation error: 'Additional properties not allowed: {unknown}'."
            )));
        }
        Ok(Self { pairs })
    }

    /// The value of `name` (the last one when repeated), `None` when absent.
    pub fn str(&self, name: &str) -> Option<&str> {
        self.pairs
            .iter()
            .rev()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    }

    /// A non-empty value.
    pub fn non_empty(&self, name: &str) -> Option<&str> {
        self.str(name).filter(|v| !v.is_empty())
    }

    pub fn int(&self, name: &str, min: i64, max: Option<i64>) -> Result<Option<u64>, ApiError> {
        let Some(raw) = self.str(name) else {
            return Ok(None);
        };
        let value: i64 = raw
            .trim()
            .parse()
            .map_err(|_| query_error(name, "Expected type integer but found type string"))?;
        if value < min {
            return Err(query_error(
                name,
                &format!("Value {value} is less than minimum {min}"),
            ));
        }
        if let Some(max) = max.filter(|max| value > *max) {
            return Err(query_error(
                name,
                &format!("Value {value} is greater than maximum {max}"),
            ));
        }
        Ok(u64::try_from(value).ok())
    }

    pub fn bool(&self, name: &str) -> Result<Option<bool>, ApiError> {
        match self.str(name) {
            None => Ok(None),
            Some("true") => Ok(Some(true)),
            Some("false") => Ok(Some(false)),
            Some(_) => Err(query_error(
                name,
                "Expected type boolean but found type string",
            )),
        }
    }
}

/// Offset paging: `page`, `per_page`, `include_totals`.
#[derive(Clone, Copy, Debug)]
pub struct Paging {
    pub page: u64,
    pub per_page: u64,
    pub include_totals: bool,
}

impl Paging {
    /// Reads the paging parameters; `per_page` defaults to 50 as in Auth0.
    pub fn read(query: &QueryParams, max_per_page: i64) -> Result<Self, ApiError> {
        Self::read_bounded(query, 0, max_per_page)
    }

    /// As [`Self::read`], with the least `per_page` the endpoint's schema accepts (1 on the
    /// organization and role lists, 0 on user search).
    pub fn read_bounded(
        query: &QueryParams,
        min_per_page: i64,
        max_per_page: i64,
    ) -> Result<Self, ApiError> {
        let page = query.int("page", 0, None)?.unwrap_or(0);
        let per_page = query
            .int("per_page", min_per_page, Some(max_per_page))?
            .unwrap_or(50);
        let include_totals = query.bool("include_totals")?.unwrap_or(false);
        Ok(Self {
            page,
            per_page,
            include_totals,
        })
    }

    pub fn start(&self) -> u64 {
        self.page.saturating_mul(self.per_page)
    }

    /// `page * per_page + per_page > 1000` is refused, whatever the number of results.
    pub fn within_window(&self) -> bool {
        self.start().saturating_add(self.per_page) <= RESULT_WINDOW
    }

    /// The slice of `items` this page covers.
    pub fn slice<'a, T>(&self, items: &'a [T]) -> &'a [T] {
        let start = usize::try_from(self.start())
            .unwrap_or(usize::MAX)
            .min(items.len());
        let len = usize::try_from(self.per_page).unwrap_or(usize::MAX);
        let end = start.saturating_add(len).min(items.len());
        &items[start..end]
    }
}

/// The 400 for users and logs past the window.
pub fn search_window_error() -> ApiError {
    ApiError::bad_request(
        "invalid_paging",
        "You can only page through the first 1000 records. See \
         https://auth0.com/docs/users/search/v3/view-search-results-by-page#limitation",
    )
}

/// The 400 for offset paging of members past the window.
pub fn checkpoint_window_error(page: u64) -> ApiError {
    ApiError::bad_request(
        "invalid_paging",
        format!(
            "Requesting page {page} exceeds the allowed maximum of 1000 records. To fetch \
             results beyond 1000, use the checkpoint pagination method."
        ),
    )
}

/// Auth0 accepts request bodies up to 1 MB.
pub const MAX_BODY: usize = 1024 * 1024;

/// The raw body of a Management API request, refused in Auth0's shape when too large.
pub struct Body(pub Bytes);

impl<S: Send + Sync> FromRequest<S> for Body {
    type Rejection = ApiError;

    async fn from_request(request: Request, state: &S) -> Result<Self, Self::Rejection> {
        Bytes::from_request(request, state)
            .await
            .map(Self)
            .map_err(|_| {
                ApiError::new(
                    StatusCode::PAYLOAD_TOO_LARGE,
                    "payload_too_large",
                    format!("Payload content length greater than maximum allowed: {MAX_BODY}"),
                )
            })
    }
}

/// A JSON object body. Hapi's answer to unparsable JSON, then the schema's to a non-object.
pub fn json_object(body: &Bytes) -> Result<Map<String, Value>, ApiError> {
    let value: Value = serde_json::from_slice(body)
        .map_err(|_| ApiError::invalid_body("Invalid request payload JSON format"))?;
    match value {
        Value::Object(map) => Ok(map),
        other => Err(ApiError::invalid_body(format!(
            "Payload validation error: 'Expected type object but found type {}'.",
            type_name(&other)
        ))),
    }
}

/// The JSON-schema name of a value's type, for validation messages.
pub fn type_name(value: &Value) -> &'static str {
    match value {
        Value::Null => "null",
        Value::Bool(_) => "boolean",
        Value::Number(n) if n.is_i64() || n.is_u64() => "integer",
        Value::Number(_) => "number",
        Value::String(_) => "string",
        Value::Array(_) => "array",
        Value::Object(_) => "object",
    }
}

/// Refuses body properties outside `known`.
pub fn only_known(body: &Map<String, Value>, known: &[&str]) -> Result<(), ApiError> {
    match body.keys().find(|k| !known.contains(&k.as_str())) {
        Some(unknown) => Err(ApiError::invalid_body(format!(
            "Payload validation error: 'Additional properties not allowed: {unknown}'."
        ))),
        None => Ok(()),
    }
}

/// A required string property.
pub fn required_str<'a>(body: &'a Map<String, Value>, name: &str) -> Result<&'a str, ApiError> {
    match body.get(name) {
        None => Err(ApiError::invalid_body(format!(
            "Payload validation error: 'Missing required property: {name}'."
        ))),
        Some(value) => expect_str(name, value),
    }
}

/// An optional string property (absent → `None`).
pub fn optional_str<'a>(
    body: &'a Map<String, Value>,
    name: &str,
) -> Result<Option<&'a str>, ApiError> {
    body.get(name).map(|v| expect_str(name, v)).transpose()
}

pub fn expect_str<'a>(name: &str, value: &'a Value) -> Result<&'a str, ApiError> {
    value.as_str().ok_or_else(|| {
        body_error(
            name,
            &format!("Expected type string but found type {}", type_name(value)),
        )
    })
}

pub fn optional_bool(body: &Map<String, Value>, name: &str) -> Result<Option<bool>, ApiError> {
    match body.get(name) {
        None => Ok(None),
        Some(Value::Bool(b)) => Ok(Some(*b)),
        Some(other) => Err(body_error(
            name,
            &format!("Expected type boolean but found type {}", type_name(other)),
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_window_is_page_times_per_page_plus_per_page() {
        let paging = |page, per_page| Paging {
            page,
            per_page,
            include_totals: false,
        };
        assert!(paging(9, 100).within_window());
        assert!(!paging(10, 100).within_window());
        assert!(paging(19, 50).within_window());
        assert!(!paging(0, 1001).within_window());
        assert_eq!(paging(3, 10).slice(&[0; 35]).len(), 5);
        assert!(paging(9, 10).slice(&[0; 35]).is_empty());
    }

    #[test]
    fn unknown_and_malformed_parameters_are_refused() {
        assert!(QueryParams::parse(Some("page=1&q=a"), &["page", "q"]).is_ok());
        assert!(QueryParams::parse(Some("pages=1"), &["page"]).is_err());
        let query =
            QueryParams::parse(Some("page=x&include_totals=1"), &["page", "include_totals"])
                .unwrap();
        assert!(query.int("page", 0, None).is_err());
        assert!(query.bool("include_totals").is_err());
    }
}
