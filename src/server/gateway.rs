//! The gateway driven in-process, as the portal's pages drive it: a bearer token and a GraphQL
//! request in, the answer out, through the same verification, per-caller budget and scope as
//! `POST /graphql`.

use std::sync::Arc;

use crate::auth::Verifier;

use super::AppState;

/// A running gateway driven in-process: what `POST /graphql` does with a bearer token and a
/// request, without HTTP. The caller is still whoever the token's verification says; nothing
/// here can stand in for it.
#[derive(Debug, Clone)]
pub struct Gateway(Arc<AppState>);

impl Gateway {
    pub(crate) fn new(state: Arc<AppState>) -> Self {
        Self(state)
    }

    /// Verifies `bearer` (`Bearer …` as sent in `Authorization`; empty for none) and runs
    /// `request` as its caller.
    pub async fn execute(
        &self,
        bearer: &str,
        request: async_graphql::Request,
    ) -> async_graphql::Response {
        let mut headers = axum::http::HeaderMap::new();
        if !bearer.is_empty()
            && let Ok(value) = axum::http::HeaderValue::from_str(bearer)
        {
            headers.insert(axum::http::header::AUTHORIZATION, value);
        }
        let caller = match super::graphql::authenticate(&self.0.verifier, &headers).await {
            Ok(caller) => caller,
            Err(error) => return crate::graphql::refusal(error),
        };
        // The same per-caller budget as `POST /graphql`: a page is an operation like any other.
        if let Err(wait) = self
            .0
            .caller_limit
            .check_n(&self.0.access.budget_key(&caller), 1)
        {
            return crate::graphql::refusal(super::graphql::too_many_requests(wait));
        }
        let id = crate::request::choose_id(None);
        let context = Arc::new(crate::graphql::RequestContext::new(
            self.0.access.scope(caller, id),
        ));
        let tag = context.scope.tag().clone();
        let mut response =
            crate::request::scope(tag, self.0.schema.answer(request, false, &context))
                .await
                .into_response();
        super::graphql::give_codes(&mut response.errors);
        response
    }

    /// The verifier, to check tokens directly.
    pub fn verifier(&self) -> &Verifier {
        &self.0.verifier
    }
}
