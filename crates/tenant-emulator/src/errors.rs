//! Error answers in Auth0's two shapes: the Management API's `{statusCode, error, message,
//! errorCode}` and the Authentication API's `{error, error_description}`.

use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde_json::json;

/// A Management API error. `attributes` is what Auth0 adds to token errors
/// (`{"error": message}`), kept so clients that read it find it.
#[derive(Debug, Clone, PartialEq)]
pub struct ApiError {
    pub status: StatusCode,
    pub message: String,
    pub code: &'static str,
    pub with_attributes: bool,
}

impl ApiError {
    pub fn new(status: StatusCode, code: &'static str, message: impl Into<String>) -> Self {
        Self {
            status,
            message: message.into(),
            code,
            with_attributes: false,
        }
    }

    pub fn bad_request(code: &'static str, message: impl Into<String>) -> Self {
        Self::new(StatusCode::BAD_REQUEST, code, message)
    }

    /// A body that breaks the endpoint's schema (`invalid_body`).
    pub fn invalid_body(message: impl Into<String>) -> Self {
        Self::bad_request("invalid_body", message)
    }

    /// A query string that breaks the endpoint's schema (`invalid_query_string`).
    pub fn invalid_query(message: impl Into<String>) -> Self {
        Self::bad_request("invalid_query_string", message)
    }

    /// 401 as Auth0's token check answers it, with `attributes.error`.
    pub fn unauthorized(message: impl Into<String>) -> Self {
        Self {
            with_attributes: true,
            ..Self::new(StatusCode::UNAUTHORIZED, "invalid_token", message)
        }
    }

    pub fn insufficient_scope(any_of: &[&str]) -> Self {
        Self::new(
            StatusCode::FORBIDDEN,
            "insufficient_scope",
            format!("Insufficient scope, expected any of: {}", any_of.join(",")),
        )
    }

    pub fn user_not_found() -> Self {
        Self::new(
            StatusCode::NOT_FOUND,
            "inexistent_user",
            "The user does not exist.",
        )
    }

    /// Auth0 answers a duplicate with its identity provider's code, not a dedicated one.
    pub fn user_exists() -> Self {
        Self::new(
            StatusCode::CONFLICT,
            "auth0_idp_error",
            "The user already exists.",
        )
    }

    pub fn too_many_requests() -> Self {
        Self::new(
            StatusCode::TOO_MANY_REQUESTS,
            "too_many_requests",
            "Too many requests. Check the X-RateLimit-Limit, X-RateLimit-Remaining and \
             X-RateLimit-Reset headers.",
        )
    }

    /// The JSON body, also used by fault injection.
    pub fn body(&self) -> serde_json::Value {
        let mut body = json!({
            "statusCode": self.status.as_u16(),
            "error": self.status.canonical_reason().unwrap_or("Error"),
            "message": self.message,
            "errorCode": self.code,
        });
        if self.with_attributes {
            body["attributes"] = json!({ "error": self.message });
        }
        body
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        json_response(self.status, &self.body())
    }
}

/// An Authentication API (`/oauth/token`, `/dbconnections/…`) error.
#[derive(Debug, Clone, PartialEq)]
pub struct AuthError {
    pub status: StatusCode,
    pub error: &'static str,
    pub description: String,
}

impl AuthError {
    pub fn new(status: StatusCode, error: &'static str, description: impl Into<String>) -> Self {
        Self {
            status,
            error,
            description: description.into(),
        }
    }

    pub fn invalid_request(description: impl Into<String>) -> Self {
        Self::new(StatusCode::BAD_REQUEST, "invalid_request", description)
    }

    pub fn access_denied(status: StatusCode, description: impl Into<String>) -> Self {
        Self::new(status, "access_denied", description)
    }

    /// A 429 of the Authentication API, whose limits are apart from the Management API's.
    pub fn too_many_requests() -> Self {
        Self::new(
            StatusCode::TOO_MANY_REQUESTS,
            "too_many_requests",
            "Too Many Requests",
        )
    }
}

impl IntoResponse for AuthError {
    fn into_response(self) -> Response {
        let body = json!({ "error": self.error, "error_description": self.description });
        json_response(self.status, &body)
    }
}

/// Serialises `body` with Auth0's content type; serialisation of a `Value` cannot fail.
pub fn json_response(status: StatusCode, body: &impl serde::Serialize) -> Response {
    json_bytes(status, serde_json::to_vec(body).unwrap_or_default())
}

/// A JSON answer from bytes already serialised (list endpoints serialise without cloning).
pub fn json_bytes(status: StatusCode, bytes: Vec<u8>) -> Response {
    let mut response = (status, bytes).into_response();
    response.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/json; charset=utf-8"),
    );
    response
}
