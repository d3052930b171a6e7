//! The Management and Authentication API endpoints tenantgraph writes through. None of these is
//! retried unless the tenant certainly did not apply it (see [`super::http`]). Only the store
//! calls them, so that every write is reflected in the caches.

use reqwest::Method;
use serde::Deserialize;
use serde_json::{Value, json};

use super::client::{TenantClient, encode_segment};
use super::error::UpstreamError;
use super::http::Call;
use super::model::{Job, Profile};

#[derive(Deserialize)]
struct TicketAnswer {
    ticket: String,
}

impl TenantClient {
    /// `POST /api/v2/users`: 201 with the new profile; 409 when the email is taken.
    pub(crate) async fn create_user(&self, body: Value) -> Result<Profile, UpstreamError> {
        let call = Call::write(
            Method::POST,
            "POST /api/v2/users",
            "/api/v2/users".into(),
            Some(body),
        );
        self.transport().json(&call).await
    }

    /// `PATCH /api/v2/users/{id}`: root fields replace, metadata merges at the first level.
    pub(crate) async fn update_user(
        &self,
        id: &str,
        body: Value,
    ) -> Result<Profile, UpstreamError> {
        let call = Call::write(
            Method::PATCH,
            "PATCH /api/v2/users/{id}",
            format!("/api/v2/users/{}", encode_segment(id)),
            Some(body),
        );
        self.transport().json(&call).await
    }

    /// `DELETE /api/v2/users/{id}`.
    pub(crate) async fn delete_user(&self, id: &str) -> Result<(), UpstreamError> {
        let call = Call::write(
            Method::DELETE,
            "DELETE /api/v2/users/{id}",
            format!("/api/v2/users/{}", encode_segment(id)),
            None,
        );
        self.transport().send(&call).await
    }

    /// `DELETE /api/v2/user-blocks/{id}`: lifts brute-force blocks, not the admin block.
    pub(crate) async fn delete_user_blocks(&self, id: &str) -> Result<(), UpstreamError> {
        let call = Call::write(
            Method::DELETE,
            "DELETE /api/v2/user-blocks/{id}",
            format!("/api/v2/user-blocks/{}", encode_segment(id)),
            None,
        );
        self.transport().send(&call).await
    }

    /// `POST /api/v2/jobs/verification-email`.
    pub(crate) async fn send_verification_email(&self, id: &str) -> Result<Job, UpstreamError> {
        let call = Call::write(
            Method::POST,
            "POST /api/v2/jobs/verification-email",
            "/api/v2/jobs/verification-email".into(),
            Some(json!({"user_id": id})),
        );
        self.transport().json(&call).await
    }

    /// `POST /api/v2/tickets/password-change`: a link the user follows to choose a password.
    pub(crate) async fn password_change_ticket(
        &self,
        id: &str,
        result_url: Option<&str>,
        ttl_seconds: Option<u32>,
    ) -> Result<String, UpstreamError> {
        let mut body = json!({"user_id": id});
        if let Some(url) = result_url {
            body["result_url"] = json!(url);
        }
        if let Some(ttl) = ttl_seconds {
            body["ttl_sec"] = json!(ttl);
        }
        let call = Call::write(
            Method::POST,
            "POST /api/v2/tickets/password-change",
            "/api/v2/tickets/password-change".into(),
            Some(body),
        );
        Ok(self.transport().json::<TicketAnswer>(&call).await?.ticket)
    }

    /// `POST /api/v2/organizations/{id}/members`.
    pub(crate) async fn add_organization_member(
        &self,
        organization: &str,
        user: &str,
    ) -> Result<(), UpstreamError> {
        let call = Call::write(
            Method::POST,
            "POST /api/v2/organizations/{id}/members",
            format!(
                "/api/v2/organizations/{}/members",
                encode_segment(organization)
            ),
            Some(json!({"members": [user]})),
        );
        self.transport().send(&call).await
    }

    /// `POST /dbconnections/change_password` (Authentication API): Auth0 emails the user a
    /// link to reset the password. Answers the same whether or not the email exists.
    pub(crate) async fn request_password_reset(
        &self,
        email: &str,
        connection: &str,
    ) -> Result<(), UpstreamError> {
        let body = json!({"client_id": self.client_id(), "email": email, "connection": connection});
        self.transport()
            .authentication_post(
                "POST /dbconnections/change_password",
                "/dbconnections/change_password",
                &body,
            )
            .await
    }
}
