//! Running a GraphQL document as the signed-in person: [`Gateway::execute`] with the session's
//! access token, exactly as `POST /graphql` would run it, and the errors put in words a page
//! can show.

use serde_json::{Value, json};

use super::Portal;
use super::session::Session;

/// One error of an answer.
#[derive(Debug, Clone)]
pub(crate) struct Problem {
    pub(crate) message: String,
    pub(crate) code: String,
    /// The tenant that failed, when one did.
    pub(crate) tenant: Option<String>,
}

/// An answer: its data (null where nothing came) and its errors.
#[derive(Debug, Clone)]
pub(crate) struct Answer {
    pub(crate) data: Value,
    pub(crate) problems: Vec<Problem>,
}

impl Answer {
    /// Whether the token was refused (it expired or was revoked): the person must sign in
    /// again.
    pub(crate) fn unauthenticated(&self) -> bool {
        self.problems.iter().any(|p| p.code == "UNAUTHENTICATED")
    }

    /// The first error's message, for a write that failed.
    pub(crate) fn refusal(&self) -> Option<String> {
        self.problems.first().map(|p| p.message.clone())
    }

    /// The tenants that failed, each once, with what went wrong.
    pub(crate) fn failed_tenants(&self) -> Vec<(String, String)> {
        let mut failed: Vec<(String, String)> = Vec::new();
        for problem in &self.problems {
            if let Some(tenant) = &problem.tenant
                && !failed.iter().any(|(t, _)| t == tenant)
            {
                failed.push((tenant.clone(), problem.message.clone()));
            }
        }
        failed
    }

    /// Errors not tied to one tenant.
    pub(crate) fn other_problems(&self) -> Vec<&Problem> {
        self.problems
            .iter()
            .filter(|p| p.tenant.is_none())
            .collect()
    }

    /// The operator's permissions, from `viewer { permissions }` in the document.
    pub(crate) fn permissions(&self) -> Vec<String> {
        self.data["viewer"]["permissions"]
            .as_array()
            .map(|list| {
                list.iter()
                    .filter_map(Value::as_str)
                    .map(str::to_owned)
                    .collect()
            })
            .unwrap_or_default()
    }
}

impl Portal {
    /// Runs `document` with `variables` as the session's caller.
    pub(crate) async fn run(&self, session: &Session, document: &str, variables: Value) -> Answer {
        let variables = if variables.is_null() {
            json!({})
        } else {
            variables
        };
        let request = async_graphql::Request::new(document)
            .variables(async_graphql::Variables::from_json(variables));
        let response = self
            .gateway
            .execute(&format!("Bearer {}", session.token), request)
            .await;
        let problems = response
            .errors
            .iter()
            .map(|error| {
                let extension = |name: &str| {
                    error
                        .extensions
                        .as_ref()
                        .and_then(|e| e.get(name))
                        .and_then(|v| match v {
                            async_graphql::Value::String(s) => Some(s.clone()),
                            _ => None,
                        })
                };
                Problem {
                    message: error.message.clone(),
                    code: extension("code").unwrap_or_else(|| "INTERNAL".to_owned()),
                    tenant: extension("tenant"),
                }
            })
            .collect();
        let data = response.data.into_json().unwrap_or(Value::Null);
        Answer { data, problems }
    }
}
