//! The contract's scalars: `DateTime` (RFC 3339, UTC, as Auth0 writes it) and `Date`
//! (`YYYY-MM-DD`). `JSON` is async-graphql's `Json<serde_json::Value>`.

use async_graphql::{InputValueError, InputValueResult, Scalar, ScalarType, Value};
use chrono::NaiveDate;

/// An instant as Auth0 reports it, e.g. `2024-05-01T10:20:30.123Z`; passed through unchanged.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DateTime(pub String);

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
pub struct Date(pub NaiveDate);

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
