//! What a resolver can reach: the request's scope (its only road to data), reporting a
//! tenant's failure without failing the field, and the fields a mutation's result asks for.

use std::collections::HashSet;
use std::sync::{Arc, Mutex};

use async_graphql::Context;

use crate::error::{ClientError, ErrorCode};
use crate::scope::{Scope, UserField};
use crate::telemetry::ClientTrace;

/// Per request: the caller's scope, the failures already reported, and the caller's trace.
pub(crate) struct RequestContext {
    pub(crate) scope: Scope,
    /// Tenant failures already reported, so a down tenant yields one error per field, not one
    /// per user.
    reported: Mutex<HashSet<(Option<String>, ErrorCode, String)>>,
    /// The trace the caller's operations continue, if it sent one (and spans are exported).
    pub(crate) client_trace: ClientTrace,
}

impl RequestContext {
    pub(crate) fn new(scope: Scope) -> Self {
        Self {
            scope,
            reported: Mutex::new(HashSet::new()),
            client_trace: ClientTrace::default(),
        }
    }

    /// Whether `error` is the first of its tenant and code reported at `field`.
    pub(crate) fn first_report(&self, error: &ClientError, field: &str) -> bool {
        self.reported
            .lock()
            .map(|mut seen| seen.insert((error.tenant.clone(), error.code, field.to_owned())))
            .unwrap_or(true)
    }

    pub(crate) fn with_client_trace(mut self, client_trace: ClientTrace) -> Self {
        self.client_trace = client_trace;
        self
    }
}

pub(crate) fn request<'a>(ctx: &Context<'a>) -> &'a RequestContext {
    ctx.data_unchecked::<Arc<RequestContext>>()
}

pub(crate) fn scope<'a>(ctx: &Context<'a>) -> &'a Scope {
    &request(ctx).scope
}

/// Adds failures to the response's errors (each tenant, code and field once) and lets the
/// field resolve with what the other tenants gave.
pub(crate) fn report(ctx: &Context<'_>, failures: Vec<ClientError>) {
    for error in failures {
        if !request(ctx).first_report(&error, ctx.field().name()) {
            continue;
        }
        let server_error = async_graphql::Error::from(error).into_server_error(ctx.item.pos);
        ctx.add_error(ctx.set_error_path(server_error));
    }
}

/// The fields of `User` the current field's selection asks for (through fragments too), for a
/// mutation to check before it writes.
pub(crate) fn selected_user_fields(ctx: &Context<'_>) -> Vec<UserField> {
    ctx.field()
        .selection_set()
        .filter_map(|field| UserField::from_graphql_name(field.name()))
        .collect()
}
