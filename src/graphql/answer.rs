//! What an operation answers: async-graphql's response, or the answer a compiled plan wrote
//! (`plan`), whose `data` is JSON text already. Both are written alike (`data`, then
//! `extensions` and `errors` when there are any), as `application/graphql-response+json`.

use std::collections::BTreeMap;

use async_graphql::{BatchResponse, ServerError, Value};
use async_graphql_axum::GraphQLResponse;
use axum::http::{HeaderValue, header};
use axum::response::{IntoResponse, Response};

use super::plan::Planned;

/// One operation's answer.
#[derive(Debug)]
pub(crate) enum Answer {
    Executed(async_graphql::Response),
    Planned {
        planned: Planned,
        extensions: BTreeMap<String, Value>,
    },
}

impl From<Planned> for Answer {
    fn from(planned: Planned) -> Self {
        Self::Planned {
            planned,
            extensions: BTreeMap::new(),
        }
    }
}

impl Answer {
    pub(crate) fn errors_mut(&mut self) -> &mut Vec<ServerError> {
        match self {
            Self::Executed(response) => &mut response.errors,
            Self::Planned { planned, .. } => &mut planned.errors,
        }
    }

    pub(crate) fn set_extension(&mut self, name: &str, value: Value) {
        let extensions = match self {
            Self::Executed(response) => &mut response.extensions,
            Self::Planned { extensions, .. } => extensions,
        };
        extensions.insert(name.to_owned(), value);
    }

    pub(crate) fn is_planned(&self) -> bool {
        matches!(self, Self::Planned { .. })
    }

    /// The answer's errors.
    pub(crate) fn errors(&self) -> &[ServerError] {
        match self {
            Self::Executed(response) => &response.errors,
            Self::Planned { planned, .. } => &planned.errors,
        }
    }

    /// `ok`, `error` (no data) or `partial` ([`crate::metrics::outcome`]).
    pub(crate) fn outcome(&self) -> &'static str {
        let has_data = match self {
            Self::Executed(response) => response.data != Value::Null,
            Self::Planned { planned, .. } => planned.data != "null",
        };
        crate::metrics::outcome(!self.errors().is_empty(), has_data)
    }

    /// As async-graphql's response (the in-process API).
    pub(crate) fn into_response(self) -> async_graphql::Response {
        match self {
            Self::Executed(response) => response,
            Self::Planned {
                planned,
                extensions,
            } => {
                let mut response = async_graphql::Response::new(
                    serde_json::from_str::<Value>(&planned.data).unwrap_or(Value::Null),
                );
                response.errors = planned.errors;
                response.extensions = extensions;
                response
            }
        }
    }
}

impl Answer {
    /// Appends the answer's JSON to `out`: a plan's `data` as written, the rest as
    /// async-graphql serializes it.
    fn write_json(&self, out: &mut Vec<u8>) -> serde_json::Result<()> {
        let (planned, extensions) = match self {
            Self::Executed(response) => return serde_json::to_writer(out, response),
            Self::Planned {
                planned,
                extensions,
            } => (planned, extensions),
        };
        out.extend_from_slice(b"{\"data\":");
        out.extend_from_slice(planned.data.as_bytes());
        if !extensions.is_empty() {
            out.extend_from_slice(b",\"extensions\":");
            serde_json::to_writer(&mut *out, extensions)?;
        }
        if !planned.errors.is_empty() {
            out.extend_from_slice(b",\"errors\":");
            serde_json::to_writer(&mut *out, &planned.errors)?;
        }
        out.push(b'}');
        Ok(())
    }
}

/// The answers of a request: one, or a batch's in order.
#[derive(Debug)]
pub(crate) enum Answers {
    Single(Answer),
    Batch(Vec<Answer>),
}

impl Answers {
    pub(crate) fn iter_mut(&mut self) -> std::slice::IterMut<'_, Answer> {
        match self {
            Self::Single(answer) => std::slice::from_mut(answer).iter_mut(),
            Self::Batch(answers) => answers.iter_mut(),
        }
    }

    pub(crate) fn iter(&self) -> std::slice::Iter<'_, Answer> {
        match self {
            Self::Single(answer) => std::slice::from_ref(answer).iter(),
            Self::Batch(answers) => answers.iter(),
        }
    }
}

impl Answers {
    /// async-graphql's responses, when no plan answered.
    fn executed(self) -> Result<BatchResponse, Box<Self>> {
        match self {
            Self::Single(Answer::Executed(response)) => Ok(BatchResponse::Single(response)),
            Self::Batch(answers) if !answers.iter().any(Answer::is_planned) => Ok(
                BatchResponse::Batch(answers.into_iter().map(Answer::into_response).collect()),
            ),
            other => Err(Box::new(other)),
        }
    }
}

impl IntoResponse for Answers {
    /// Answers without a plan's part are written by async-graphql's integration (its headers,
    /// such as cache control, included); with one, alike, with the plans' `data` as written.
    fn into_response(self) -> Response {
        let this = match self.executed() {
            Ok(executed) => return GraphQLResponse::from(executed).into_response(),
            Err(this) => this,
        };
        let mut body = Vec::with_capacity(1024);
        let written = match &*this {
            Self::Single(answer) => answer.write_json(&mut body),
            Self::Batch(answers) => {
                body.push(b'[');
                let mut written = Ok(());
                for (index, answer) in answers.iter().enumerate() {
                    if index > 0 {
                        body.push(b',');
                    }
                    written = written.and_then(|()| answer.write_json(&mut body));
                }
                body.push(b']');
                written
            }
        };
        if written.is_err() {
            return axum::http::StatusCode::INTERNAL_SERVER_ERROR.into_response();
        };
        let mut response = Response::new(axum::body::Body::from(body));
        response.headers_mut().insert(
            header::CONTENT_TYPE,
            HeaderValue::from_static("application/graphql-response+json"),
        );
        response
    }
}
