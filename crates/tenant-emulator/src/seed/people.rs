//! People: who they are (name, email), shared between tenants through a pool drawn from the seed
//! alone, or local to one tenant.

use std::collections::HashSet;

use rand::Rng as _;
use rand::seq::SliceRandom as _;

use super::names::{EMAIL_DOMAINS, FIRST_NAMES, LAST_NAMES};
use super::rng;

/// A person, before they hold an account in a tenant.
#[derive(Clone, Debug)]
pub struct Person {
    pub given_name: String,
    pub family_name: String,
    pub email: String,
}

/// Lower-case ASCII for an email local part: accents folded, other characters dropped.
fn ascii_fold(text: &str) -> String {
    text.chars()
        .filter_map(|c| {
            let folded = match c {
                'à' | 'á' | 'â' | 'ä' | 'ã' | 'å' | 'À' | 'Á' | 'Â' | 'Ä' => 'a',
                'ç' | 'Ç' => 'c',
                'è' | 'é' | 'ê' | 'ë' | 'É' | 'È' => 'e',
                'ì' | 'í' | 'î' | 'ï' => 'i',
                'ñ' => 'n',
                'ò' | 'ó' | 'ô' | 'ö' | 'õ' | 'Ö' => 'o',
                'ù' | 'ú' | 'û' | 'ü' | 'Ü' => 'u',
                'ß' => 's',
                c if c.is_ascii_alphabetic() => c.to_ascii_lowercase(),
                _ => return None,
            };
            Some(folded)
        })
        .collect()
}

/// The local part of an email, in one of the shapes people pick. Only letters, dots and
/// underscores: digits are added by the caller, which keeps emails unique.
///
/// Local people of different tenants may draw the same address; shapes with initials are kept
/// for pooled people (whose addresses carry their pool number) so that equal addresses always
/// mean equal names.
fn email_base(rng: &mut impl rand::Rng, given: &str, family: &str, initials: bool) -> String {
    let (g, f) = (ascii_fold(given), ascii_fold(family));
    let initial = g.chars().next().map(String::from).unwrap_or_default();
    const FULL_NAMES: [u8; 8] = [0, 1, 2, 3, 4, 5, 7, 9];
    let shape = if initials {
        rng.gen_range(0..10)
    } else {
        FULL_NAMES[rng.gen_range(0..FULL_NAMES.len())]
    };
    match shape {
        0..=3 => format!("{g}.{f}"),
        4 | 5 => format!("{g}{f}"),
        6 => format!("{initial}{f}"),
        7 => format!("{g}_{f}"),
        8 => format!("{initial}.{f}"),
        _ => format!("{f}.{g}"),
    }
}

fn draw_names(rng: &mut impl rand::Rng) -> (String, String) {
    let given = FIRST_NAMES.choose(rng).copied().unwrap_or("Alex");
    let family = LAST_NAMES.choose(rng).copied().unwrap_or("Smith");
    (given.to_owned(), family.to_owned())
}

fn domain(rng: &mut impl rand::Rng) -> &'static str {
    EMAIL_DOMAINS.choose(rng).copied().unwrap_or("example.com")
}

/// Person `k` of the pool shared by every tenant with this seed. Pool emails end with `k`, so
/// they are unique without knowing which tenants hold which people.
pub fn pooled(seed: u64, k: u64) -> Person {
    let mut rng = rng(seed, &["pool", &k.to_string()]);
    let (given_name, family_name) = draw_names(&mut rng);
    let email = format!(
        "{}{k}@{}",
        email_base(&mut rng, &given_name, &family_name, true),
        domain(&mut rng)
    );
    Person {
        given_name,
        family_name,
        email,
    }
}

/// Whether tenant `tenant` holds an account for pool person `k` (60% of the pool, so two
/// tenants share about a third of their pooled people).
pub fn tenant_holds(seed: u64, tenant: &str, k: u64) -> bool {
    rng(seed, &["holds", tenant, &k.to_string()]).gen_range(0..100) < 60
}

/// A person only this tenant knows, with an email not yet `used`. A clash gets a `-n` suffix,
/// a shape pool emails never have.
pub fn local(seed: u64, tenant: &str, i: u64, used: &mut HashSet<String>) -> Person {
    let mut rng = rng(seed, &["local", tenant, &i.to_string()]);
    let (given_name, family_name) = draw_names(&mut rng);
    let base = email_base(&mut rng, &given_name, &family_name, false);
    let domain = domain(&mut rng);
    let mut email = format!("{base}@{domain}");
    let mut n = 2;
    while used.contains(&email) {
        email = format!("{base}-{n}@{domain}");
        n += 1;
    }
    used.insert(email.clone());
    Person {
        given_name,
        family_name,
        email,
    }
}
