//! `searchUsers`' types: the connection, its edges and page info, and the orders.

use async_graphql::{Enum, SimpleObject};

use super::types::User;
use crate::scope::{self, SearchPage};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Enum, Default)]
pub(crate) enum UserOrder {
    #[default]
    CreatedAtDesc,
    CreatedAtAsc,
    LastLoginDesc,
    EmailAsc,
}

impl From<UserOrder> for scope::UserOrder {
    fn from(order: UserOrder) -> Self {
        match order {
            UserOrder::CreatedAtDesc => Self::CreatedAtDesc,
            UserOrder::CreatedAtAsc => Self::CreatedAtAsc,
            UserOrder::LastLoginDesc => Self::LastLoginDesc,
            UserOrder::EmailAsc => Self::EmailAsc,
        }
    }
}

#[derive(SimpleObject)]
pub(crate) struct UserConnection {
    pub(crate) edges: Vec<UserEdge>,
    pub(crate) page_info: PageInfo,
    /// The number of matching users in every searched tenant (the sum of their totals).
    pub(crate) total_count: i32,
}

#[derive(SimpleObject)]
pub(crate) struct UserEdge {
    pub(crate) cursor: String,
    pub(crate) node: User,
}

#[derive(SimpleObject)]
pub(crate) struct PageInfo {
    pub(crate) has_next_page: bool,
    pub(crate) end_cursor: Option<String>,
}

impl From<SearchPage> for UserConnection {
    fn from(page: SearchPage) -> Self {
        Self {
            edges: page
                .edges
                .into_iter()
                .map(|(cursor, node)| UserEdge {
                    cursor,
                    node: User(node),
                })
                .collect(),
            page_info: PageInfo {
                has_next_page: page.has_next_page,
                end_cursor: page.end_cursor,
            },
            total_count: page.total_count,
        }
    }
}
