//! The mutation inputs, and their translation into Auth0 request bodies after validation.
//!
//! Absent fields are left alone; `null` unsets a root field where Auth0 allows it; metadata is
//! passed through as a first-level patch (a key set to null is removed, a nested object replaces
//! the old one whole, `{}` clears everything), exactly as Auth0 merges it.

use async_graphql::{InputObject, Json, MaybeUndefined};
use serde_json::Value;

use crate::error::{ClientError, ClientResult};
use crate::validate::{self, Body, Metadata};

#[derive(InputObject)]
pub(crate) struct CreateUserInput {
    /// The Auth0 connection, e.g. `Username-Password-Authentication`.
    pub(crate) connection: String,
    pub(crate) email: String,
    /// Required except for passwordless connections (`email`, `sms`).
    pub(crate) password: Option<String>,
    pub(crate) username: Option<String>,
    pub(crate) name: Option<String>,
    pub(crate) given_name: Option<String>,
    pub(crate) family_name: Option<String>,
    pub(crate) nickname: Option<String>,
    /// When not true, Auth0 sends a verification email.
    pub(crate) email_verified: Option<bool>,
    pub(crate) user_metadata: Option<Json<Value>>,
    /// Needs `update:users_app_metadata`.
    pub(crate) app_metadata: Option<Json<Value>>,
}

/// Absent fields are left alone; `null` unsets a root field. userMetadata / appMetadata merge at
/// the first level, as Auth0 does: a top-level key is replaced whole, a key set to null is
/// removed, `{}` clears the object.
#[derive(InputObject)]
pub(crate) struct UpdateUserInput {
    pub(crate) email: MaybeUndefined<String>,
    pub(crate) email_verified: MaybeUndefined<bool>,
    pub(crate) username: MaybeUndefined<String>,
    pub(crate) phone_number: MaybeUndefined<String>,
    pub(crate) name: MaybeUndefined<String>,
    pub(crate) given_name: MaybeUndefined<String>,
    pub(crate) family_name: MaybeUndefined<String>,
    pub(crate) nickname: MaybeUndefined<String>,
    pub(crate) picture: MaybeUndefined<String>,
    pub(crate) user_metadata: MaybeUndefined<Json<Value>>,
    /// Needs `update:users_app_metadata`.
    pub(crate) app_metadata: MaybeUndefined<Json<Value>>,
}

/// What a signed-in user may change about themself: never app_metadata, never email.
#[derive(InputObject)]
pub(crate) struct UpdateMeInput {
    pub(crate) name: MaybeUndefined<String>,
    pub(crate) given_name: MaybeUndefined<String>,
    pub(crate) family_name: MaybeUndefined<String>,
    pub(crate) nickname: MaybeUndefined<String>,
    pub(crate) picture: MaybeUndefined<String>,
    pub(crate) user_metadata: MaybeUndefined<Json<Value>>,
}

type Check = fn(&str, &str) -> ClientResult<()>;

fn name_check(field: &str, value: &str) -> ClientResult<()> {
    validate::text(field, value, validate::MAX_NAME)
}
fn part_name_check(field: &str, value: &str) -> ClientResult<()> {
    validate::text(field, value, validate::MAX_GIVEN_OR_FAMILY_NAME)
}
fn nickname_check(field: &str, value: &str) -> ClientResult<()> {
    validate::text(field, value, validate::MAX_NICKNAME)
}

/// How the inputs fill a [`Body`].
trait Fill {
    fn text(
        &mut self,
        field: &'static str,
        key: &str,
        value: MaybeUndefined<String>,
        check: Check,
    ) -> ClientResult<()>;

    fn metadata(
        &mut self,
        field: &'static str,
        key: &str,
        value: MaybeUndefined<Json<Value>>,
        kind: Metadata,
        max_bytes: usize,
    ) -> ClientResult<()>;

    fn require_change(self) -> ClientResult<Body>;
}

impl Fill for Body {
    /// A text field: validated when set, `null` when unset (if Auth0 can unset it).
    fn text(
        &mut self,
        field: &'static str,
        key: &str,
        value: MaybeUndefined<String>,
        check: Check,
    ) -> ClientResult<()> {
        match value {
            MaybeUndefined::Undefined => Ok(()),
            MaybeUndefined::Null => {
                self.set(field, key, Value::Null);
                Ok(())
            }
            MaybeUndefined::Value(value) => {
                check(&format!("input.{field}"), &value)?;
                self.set(field, key, Value::String(value));
                Ok(())
            }
        }
    }

    fn metadata(
        &mut self,
        field: &'static str,
        key: &str,
        value: MaybeUndefined<Json<Value>>,
        kind: Metadata,
        max_bytes: usize,
    ) -> ClientResult<()> {
        match value {
            MaybeUndefined::Undefined => Ok(()),
            MaybeUndefined::Null => Err(ClientError::bad_input(format!(
                "input.{field}: null is not a patch; send {{}} to clear it or {{\"key\": null}} to remove a key"
            ))),
            MaybeUndefined::Value(Json(value)) => {
                validate::metadata(&format!("input.{field}"), &value, kind, max_bytes)?;
                self.set(field, key, value);
                Ok(())
            }
        }
    }

    fn require_change(self) -> ClientResult<Body> {
        if self.json.is_empty() {
            return Err(ClientError::bad_input("input: nothing to change"));
        }
        Ok(self)
    }
}

impl UpdateUserInput {
    /// The PATCH body, validated.
    pub(crate) fn into_body(self, max_metadata_bytes: usize) -> ClientResult<Body> {
        let mut body = Body::default();
        match self.email {
            MaybeUndefined::Undefined => {}
            MaybeUndefined::Null => {
                return Err(ClientError::bad_input(
                    "input.email: an email cannot be removed",
                ));
            }
            MaybeUndefined::Value(email) => {
                let email = validate::email("input.email", &email)?;
                body.set("email", "email", Value::String(email));
            }
        }
        match self.email_verified {
            MaybeUndefined::Undefined => {}
            MaybeUndefined::Null => {
                return Err(ClientError::bad_input(
                    "input.emailVerified: must be true or false",
                ));
            }
            MaybeUndefined::Value(verified) => {
                body.set("emailVerified", "email_verified", Value::Bool(verified));
            }
        }
        body.text("username", "username", self.username, validate::username)?;
        body.text(
            "phoneNumber",
            "phone_number",
            self.phone_number,
            validate::phone_number,
        )?;
        body.text("name", "name", self.name, name_check)?;
        body.text("givenName", "given_name", self.given_name, part_name_check)?;
        body.text(
            "familyName",
            "family_name",
            self.family_name,
            part_name_check,
        )?;
        body.text("nickname", "nickname", self.nickname, nickname_check)?;
        body.text("picture", "picture", self.picture, validate::url)?;
        body.metadata(
            "userMetadata",
            "user_metadata",
            self.user_metadata,
            Metadata::User,
            max_metadata_bytes,
        )?;
        body.metadata(
            "appMetadata",
            "app_metadata",
            self.app_metadata,
            Metadata::App,
            max_metadata_bytes,
        )?;
        body.require_change()
    }
}

impl UpdateMeInput {
    /// The PATCH body, validated.
    pub(crate) fn into_body(self, max_metadata_bytes: usize) -> ClientResult<Body> {
        let mut body = Body::default();
        body.text("name", "name", self.name, name_check)?;
        body.text("givenName", "given_name", self.given_name, part_name_check)?;
        body.text(
            "familyName",
            "family_name",
            self.family_name,
            part_name_check,
        )?;
        body.text("nickname", "nickname", self.nickname, nickname_check)?;
        body.text("picture", "picture", self.picture, validate::url)?;
        body.metadata(
            "userMetadata",
            "user_metadata",
            self.user_metadata,
            Metadata::User,
            max_metadata_bytes,
        )?;
        body.require_change()
    }
}

/// Connections that sign in without a password.
const PASSWORDLESS: [&str; 2] = ["email", "sms"];

impl CreateUserInput {
    /// The POST body, validated.
    pub(crate) fn into_body(self, max_metadata_bytes: usize) -> ClientResult<Body> {
        let mut body = Body::default();
        let connection = self.connection.trim();
        if connection.is_empty() {
            return Err(ClientError::bad_input(
                "input.connection: must not be empty",
            ));
        }
        validate::text("input.connection", connection, validate::MAX_CONNECTION)?;
        body.set(
            "connection",
            "connection",
            Value::String(connection.to_owned()),
        );
        let email = validate::email("input.email", &self.email)?;
        body.set("email", "email", Value::String(email));
        match self.password {
            Some(password) => {
                validate::password("input.password", &password)?;
                body.set("password", "password", Value::String(password));
            }
            None if PASSWORDLESS.contains(&connection) => {}
            None => {
                return Err(ClientError::bad_input(format!(
                    "input.password: the connection `{connection}` needs a password"
                )));
            }
        }
        let optional =
            |value: Option<String>| value.map_or(MaybeUndefined::Undefined, MaybeUndefined::Value);
        body.text(
            "username",
            "username",
            optional(self.username),
            validate::username,
        )?;
        body.text("name", "name", optional(self.name), name_check)?;
        body.text(
            "givenName",
            "given_name",
            optional(self.given_name),
            part_name_check,
        )?;
        body.text(
            "familyName",
            "family_name",
            optional(self.family_name),
            part_name_check,
        )?;
        body.text(
            "nickname",
            "nickname",
            optional(self.nickname),
            nickname_check,
        )?;
        if let Some(verified) = self.email_verified {
            body.set("emailVerified", "email_verified", Value::Bool(verified));
        }
        let metadata = |value: Option<Json<Value>>| {
            value.map_or(MaybeUndefined::Undefined, MaybeUndefined::Value)
        };
        body.metadata(
            "userMetadata",
            "user_metadata",
            metadata(self.user_metadata),
            Metadata::User,
            max_metadata_bytes,
        )?;
        body.metadata(
            "appMetadata",
            "app_metadata",
            metadata(self.app_metadata),
            Metadata::App,
            max_metadata_bytes,
        )?;
        Ok(body)
    }
}
