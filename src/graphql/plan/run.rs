//! Running a plan: its arguments taken from the request's variables, the scope asked as the
//! resolvers ask it, and the answer's `data` written as JSON from the views the scope hands out.

use std::borrow::Cow;

use async_graphql::{PathSegment, Request, ServerError, Value, Variables};
use serde::ser::{Error as _, SerializeMap};
use serde::{Serialize, Serializer};
use serde_json::value::RawValue;

use super::{Arg, LeafKind, Plan, Root, TenantLeaf};
use crate::error::{ClientError, ClientResult};
use crate::graphql::RequestContext;
use crate::graphql::scalars::json_text_value;
use crate::graphql::types::logins_count;
use crate::scope::{UserField, UserView};
use crate::store::TenantRef;
use crate::tenant::{Profile, Timestamp};

/// What a plan answered: the JSON text of the answer's `data`, and its errors.
#[derive(Debug)]
pub(crate) struct Planned {
    pub(crate) data: String,
    pub(crate) errors: Vec<ServerError>,
}

impl Plan {
    /// Answers `request` for the caller of `context`, or `None` when async-graphql must (the
    /// scope has then been asked nothing).
    pub(crate) async fn run(&self, request: &Request, context: &RequestContext) -> Option<Planned> {
        match (&request.operation_name, &self.operation) {
            (None, _) => {}
            (Some(asked), Some(name)) if asked.as_str() == name.as_str() => {}
            _ => return None,
        }
        let scope = &context.scope;
        let sight = scope.sight();
        // A field the caller may not see is an error at that field, with what follows from it
        // for its parents: async-graphql answers that.
        if self.leaves.iter().any(|leaf| {
            matches!(leaf.kind, LeafKind::Field(field) if !field.hidden_as_null() && !sight.sees(field))
        }) {
            return None;
        }
        let variables = &request.variables;
        let mut errors = Vec::new();
        let data = match &self.root {
            Root::User { tenant, id } => {
                let (tenant, id) = (text(tenant, variables)?, text(id, variables)?);
                match scope.user(tenant, id).await {
                    Ok(user) => self.write_data(&user.as_ref().map(|view| self.user(view))),
                    // async-graphql answers a root field's error with no data at all.
                    Err(error) => {
                        errors.push(self.error(error));
                        Ok("null".to_owned())
                    }
                }
            }
            Root::Users { refs } => {
                let refs = user_refs(variables.get(refs.as_str())?)?;
                match scope.users(&refs).await {
                    Ok(found) => {
                        for failure in found.failures {
                            if context.first_report(&failure, self.root.field()) {
                                errors.push(self.error(failure));
                            }
                        }
                        let users: Vec<Option<UserJson<'_>>> = found
                            .value
                            .iter()
                            .map(|user| user.as_ref().map(|view| self.user(view)))
                            .collect();
                        self.write_data(&users)
                    }
                    Err(error) => {
                        errors.push(self.error(error));
                        Ok("null".to_owned())
                    }
                }
            }
        };
        let data = data.unwrap_or_else(|error| {
            // Every field was checked against the caller's sight above: not reached.
            tracing::error!(%error, "a compiled plan could not write its answer");
            errors.push(self.error(ClientError::internal()));
            "null".to_owned()
        });
        Some(Planned { data, errors })
    }

    fn user<'a>(&'a self, view: &'a UserView) -> UserJson<'a> {
        UserJson { plan: self, view }
    }

    /// `{"<root key>": value}`.
    fn write_data(&self, value: &impl Serialize) -> serde_json::Result<String> {
        let mut out = Vec::with_capacity(512);
        let mut serializer = serde_json::Serializer::new(&mut out);
        let mut map = serializer.serialize_map(Some(1))?;
        map.serialize_entry(&self.key, value)?;
        map.end()?;
        String::from_utf8(out).map_err(serde_json::Error::custom)
    }

    /// The error of the root field, as async-graphql makes it from a resolver's error.
    fn error(&self, error: ClientError) -> ServerError {
        let mut error = async_graphql::Error::from(error).into_server_error(self.pos);
        error.path = vec![PathSegment::Field(self.key.clone())];
        error
    }
}

/// An `ID!` argument's text; `None` for a value async-graphql would coerce or refuse.
fn text<'a>(arg: &'a Arg, variables: &'a Variables) -> Option<&'a str> {
    match arg {
        Arg::Text(text) => Some(text),
        Arg::Variable(name) => match variables.get(name.as_str())? {
            Value::String(text) => Some(text),
            _ => None,
        },
    }
}

/// `[UserRef!]!` as a list of objects of exactly `tenant` and `id`, both strings.
fn user_refs(value: &Value) -> Option<Vec<(String, String)>> {
    let Value::List(items) = value else {
        return None;
    };
    items
        .iter()
        .map(|item| match item {
            Value::Object(fields) if fields.len() == 2 => {
                match (fields.get("tenant")?, fields.get("id")?) {
                    (Value::String(tenant), Value::String(id)) => {
                        Some((tenant.clone(), id.clone()))
                    }
                    _ => None,
                }
            }
            _ => None,
        })
        .collect()
}

/// A user as the plan's leaves select it.
struct UserJson<'a> {
    plan: &'a Plan,
    view: &'a UserView,
}

/// A field's value, or the error that cannot happen once the caller's sight was checked.
fn shown<T, E: serde::ser::Error>(value: ClientResult<T>) -> Result<T, E> {
    value.map_err(|error| E::custom(error.message))
}

impl Serialize for UserJson<'_> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let view = self.view;
        let mut map = serializer.serialize_map(Some(self.plan.leaves.len()))?;
        for leaf in &self.plan.leaves {
            let key = &leaf.key;
            let field = match &leaf.kind {
                LeafKind::Typename => {
                    map.serialize_entry(key, "User")?;
                    continue;
                }
                LeafKind::Tenant(leaves) => {
                    let tenant = TenantJson {
                        leaves,
                        tenant: view.tenant(),
                    };
                    map.serialize_entry(key, &tenant)?;
                    continue;
                }
                LeafKind::Field(field) => *field,
            };
            let text =
                |get: fn(&Profile) -> Option<&str>| shown::<_, S::Error>(view.read(field, get));
            let stamp = |get: fn(&Profile) -> Option<Timestamp<'_>>| {
                shown::<_, S::Error>(view.read(field, get))
            };
            match field {
                UserField::Id => map.serialize_entry(key, view.id())?,
                UserField::Email => map.serialize_entry(key, &text(Profile::email)?)?,
                UserField::Username => map.serialize_entry(key, &text(Profile::username)?)?,
                UserField::PhoneNumber => {
                    map.serialize_entry(key, &text(Profile::phone_number)?)?;
                }
                UserField::Name => map.serialize_entry(key, &text(Profile::name)?)?,
                UserField::Nickname => map.serialize_entry(key, &text(Profile::nickname)?)?,
                UserField::GivenName => map.serialize_entry(key, &text(Profile::given_name)?)?,
                UserField::FamilyName => map.serialize_entry(key, &text(Profile::family_name)?)?,
                UserField::Picture => {
                    let picture = shown::<_, S::Error>(view.read(field, Profile::picture))?;
                    map.serialize_entry(key, &picture)?;
                }
                UserField::CreatedAt => map.serialize_entry(key, &stamp(Profile::created_at)?)?,
                UserField::UpdatedAt => map.serialize_entry(key, &stamp(Profile::updated_at)?)?,
                UserField::LastLogin => map.serialize_entry(key, &stamp(Profile::last_login)?)?,
                UserField::EmailVerified => {
                    let verified = shown::<_, S::Error>(view.read(field, Profile::email_verified))?;
                    map.serialize_entry(key, &verified)?;
                }
                UserField::Blocked => {
                    map.serialize_entry(
                        key,
                        &shown::<_, S::Error>(view.read(field, Profile::blocked))?,
                    )?;
                }
                UserField::LoginsCount => {
                    let count = shown::<_, S::Error>(view.read(field, logins_count))?;
                    map.serialize_entry(key, &count)?;
                }
                UserField::UserMetadata => {
                    let json = shown::<_, S::Error>(view.read(field, Profile::user_metadata_json))?;
                    map.serialize_entry(key, &JsonText(json))?;
                }
                UserField::LastIp => {
                    map.serialize_entry(key, &view.read_or_none(field, Profile::last_ip))?;
                }
                UserField::AppMetadata => {
                    let json = view.read_or_none(field, |p| Some(p.app_metadata_json()));
                    map.serialize_entry(key, &json.map(JsonText))?;
                }
                // Not leaves: `compile` never selects them.
                _ => return Err(S::Error::custom("not a leaf field of User")),
            }
        }
        map.end()
    }
}

/// Metadata as the `JSON` scalar answers it: text already as serde_json writes it is copied;
/// other text is read and written again, as async-graphql does.
struct JsonText<'a>((Cow<'a, str>, bool));

impl Serialize for JsonText<'_> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let (text, canonical) = &self.0;
        if *canonical && let Ok(raw) = serde_json::from_str::<&RawValue>(text) {
            return raw.serialize(serializer);
        }
        json_text_value(text).serialize(serializer)
    }
}

/// `tenant { … }` of a user.
struct TenantJson<'a> {
    leaves: &'a [(String, TenantLeaf)],
    tenant: &'a TenantRef,
}

impl Serialize for TenantJson<'_> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let tenant = self.tenant;
        let mut map = serializer.serialize_map(Some(self.leaves.len()))?;
        for (key, leaf) in self.leaves {
            match leaf {
                TenantLeaf::Typename => map.serialize_entry(key, "Tenant")?,
                TenantLeaf::Id => map.serialize_entry(key, &**tenant.id())?,
                TenantLeaf::Name => map.serialize_entry(key, tenant.name())?,
                TenantLeaf::Domain => map.serialize_entry(key, tenant.domain())?,
                TenantLeaf::CustomDomain => map.serialize_entry(key, &tenant.custom_domain())?,
            }
        }
        map.end()
    }
}
