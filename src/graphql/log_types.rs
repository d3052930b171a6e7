//! Auth0's log event type codes in words, for people reading a user's activity.

/// The event type in words; the code itself for codes not listed.
pub(crate) fn describe(code: &str) -> &'static str {
    match code {
        "s" => "Successful login",
        "f" => "Failed login",
        "fp" => "Failed login (wrong password)",
        "fu" => "Failed login (unknown user)",
        "ss" => "Successful signup",
        "fs" => "Failed signup",
        "scp" => "Password changed",
        "fcp" => "Password change failed",
        "scpr" => "Password change requested",
        "fcpr" => "Password change request failed",
        "sce" => "Email changed",
        "fce" => "Email change failed",
        "sv" => "Email verified",
        "fv" => "Email verification failed",
        "svr" => "Verification email sent",
        "fvr" => "Verification email failed",
        "du" => "User deleted",
        "limit_wc" => "Blocked after too many failed logins",
        "limit_mu" => "Blocked IP after attempts on many accounts",
        "sapi" => "Management operation",
        "fapi" => "Management operation failed",
        "seacft" => "Authorization code exchanged for a token",
        "feacft" => "Authorization code exchange failed",
        "slo" => "Logged out",
        "flo" => "Logout failed",
        "sens" => "Session started",
        _ => "Other event",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn known_codes_read_as_words_and_others_as_other() {
        assert_eq!(describe("s"), "Successful login");
        assert_eq!(describe("limit_wc"), "Blocked after too many failed logins");
        assert_eq!(describe("zzz"), "Other event");
    }
}
