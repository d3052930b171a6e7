//! The contract's scalars: `DateTime` (RFC 3339, UTC, as Auth0 writes it) and `Date`
//! (`YYYY-MM-DD`). `JSON` is async-graphql's `Json<serde_json::Value>`; [`JsonText`] answers
//! with the same scalar straight from JSON text (cached metadata), without building a
//! `serde_json::Value` first.

use async_graphql::{InputValueError, InputValueResult, Scalar, ScalarType, Value};
use chrono::NaiveDate;

/// An instant as Auth0 reports it, e.g. `2024-05-01T10:20:30.123Z`; passed through unchanged.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct DateTime(pub String);

/// RFC 3339 date and time, in UTC.
#[Scalar(name = "DateTime")]
impl ScalarType for DateTime {
    fn parse(value: Value) -> InputValueResult<Self> {
        match value {
            Value::String(s) if chrono::DateTime::parse_from_rfc3339(&s).is_ok() => Ok(Self(s)),
            other => Err(InputValueError::expected_type(other)),
        }
    }

    fn to_value(&self) -> Value {
        Value::String(self.0.clone())
    }
}

/// A calendar day, `YYYY-MM-DD`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) struct Date(pub NaiveDate);

/// A calendar date, YYYY-MM-DD.
#[Scalar(name = "Date")]
impl ScalarType for Date {
    fn parse(value: Value) -> InputValueResult<Self> {
        match &value {
            Value::String(s) => s
                .parse()
                .map(Self)
                .map_err(|_| InputValueError::expected_type(value)),
            _ => Err(InputValueError::expected_type(value)),
        }
    }

    fn to_value(&self) -> Value {
        Value::String(self.0.format("%Y-%m-%d").to_string())
    }
}

/// JSON text answered as the `JSON` scalar, parsed straight into GraphQL's value form.
pub(super) struct JsonText<'a>(pub std::borrow::Cow<'a, str>);

impl async_graphql::OutputType for JsonText<'_> {
    fn type_name() -> std::borrow::Cow<'static, str> {
        <async_graphql::Json<serde_json::Value> as async_graphql::OutputType>::type_name()
    }

    fn create_type_info(registry: &mut async_graphql::registry::Registry) -> String {
        // The one `JSON` scalar of the schema, whichever type answers with it.
        <async_graphql::Json<serde_json::Value> as async_graphql::OutputType>::create_type_info(
            registry,
        )
    }

    async fn resolve(
        &self,
        _: &async_graphql::ContextSelectionSet<'_>,
        _: &async_graphql::Positioned<async_graphql::parser::types::Field>,
    ) -> async_graphql::ServerResult<Value> {
        Ok(json_text_value(&self.0))
    }
}

/// JSON text as the `JSON` scalar's value; `{}` if it is not JSON.
pub(super) fn json_text_value(text: &str) -> Value {
    serde_json::from_str(text).unwrap_or_else(|_| Value::Object(Default::default()))
}
