//! Real-browser tests: headless Chromium through chromedriver ([`test_kit::Browser`]) against
//! the demo's gateway on loopback. Counted as ignored, loudly, where Chromium or chromedriver is
//! not installed; failing there under `TENANTGRAPH_CI=1` (`harness = false`: see
//! `test_kit::system_tests`).
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod explorer;
mod portal;

test_kit::system_tests!(
    needs: [CHROMIUM, CHROMEDRIVER],
    tests: [
        explorer::the_opening_example_runs_with_nothing_but_loopback_and_no_console_error,
        explorer::another_token_in_the_headers_makes_another_caller,
        explorer::the_docs_list_the_query_fields_and_insert_them,
        explorer::the_explorer_fits_a_phone,
        portal::the_global_admin_reads_the_dashboard_and_searches_users,
        portal::the_tenant_admin_blocks_a_user_and_unblocks_them,
        portal::a_user_is_found_and_blocked_with_the_keyboard_alone,
        portal::the_org_admin_sees_its_members_only_and_no_dashboard,
        portal::the_auditor_reads_the_audit_trail,
        portal::an_end_user_signs_in_at_their_tenant_and_accepts_the_terms_on_a_phone,
        portal::the_admin_pages_fit_a_phone,
    ],
);
