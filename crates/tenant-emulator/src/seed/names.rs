//! Built-in word lists for seeded people, places and organizations: large enough that 10,000
//! users look like a real customer base, not a dozen names repeated.

#[rustfmt::skip]
pub const FIRST_NAMES: &[&str] = &[
    "Emma", "Liam", "Olivia", "Noah", "Ava", "Elijah", "Sophia", "James", "Isabella", "Lucas",
    "Mia", "Mateo", "Amelia", "Benjamin", "Harper", "Theodore", "Evelyn", "Henry", "Abigail",
    "Alexander", "Emily", "Sebastian", "Ella", "Jack", "Elizabeth", "Daniel", "Camila", "Michael",
    "Luna", "Owen", "Sofia", "Samuel", "Avery", "Joseph", "Scarlett", "David", "Victoria", "Wyatt",
    "Madison", "John", "Aria", "Luke", "Grace", "Gabriel", "Anthony", "Penelope", "Isaac", "Layla",
    "Dylan", "Riley", "Leo", "Zoey", "Lincoln", "Nora", "Jaxon", "Lily", "Asher", "Eleanor",
    "Christopher", "Hannah", "Josiah", "Lillian", "Andrew", "Addison", "Thomas", "Aubrey",
    "Joshua", "Ellie", "Ezra", "Stella", "Hudson", "Natalie", "Charles", "Zoe", "Caleb", "Leah",
    "Isaiah", "Hazel", "Ryan", "Violet", "Nathan", "Aurora", "Adrian", "Savannah", "Christian",
    "Audrey", "Maverick", "Brooklyn", "Colton", "Bella", "Elias", "Claire", "Aaron", "Skylar",
    "Lukas", "Lena", "Felix", "Marie", "Jonas", "Anna", "Leon", "Hanna", "Paul", "Finn", "Laura",
    "Maximilian", "Julia", "Moritz", "Sarah", "Tobias", "Katharina", "Niklas", "Johanna",
    "Florian", "Franziska", "Matthias", "Sabine", "Stefan", "Ursula", "Hugo", "Louise", "Arthur",
    "Chloé", "Jules", "Camille", "Louis", "Manon", "Raphaël", "Inès", "Gabin", "Léa", "Théo",
    "Juliette", "Nathan", "Clémence", "Enzo", "Margaux", "Pierre", "Amélie", "Alejandro",
    "Lucía",
    "Diego", "Martina", "Pablo", "Valentina", "Javier", "Carmen", "Miguel", "Elena", "Carlos",
    "Paula", "Marco", "Giulia", "Lorenzo", "Francesca", "Matteo", "Chiara", "Alessandro", "Sara",
    "Giovanni", "Alessia", "Lars", "Ingrid", "Erik", "Astrid", "Sven", "Freja", "Mikkel", "Sigrid",
    "Jan", "Eva", "Piotr", "Agnieszka", "Tomasz", "Katarzyna", "Jakub", "Zofia", "Aarav", "Priya",
    "Vihaan", "Ananya", "Arjun", "Diya", "Rohan", "Kavya", "Wei", "Mei", "Jun", "Yan", "Hiroshi",
    "Yuki", "Haruto", "Sakura", "Kenji", "Aiko", "Minjun", "Seoyeon", "Jisoo", "Hyun", "Mohammed",
    "Fatima", "Omar", "Aisha", "Yusuf", "Layla", "Ali", "Zainab", "Kwame", "Amara", "Chinedu",
    "Ngozi", "Tendai", "Zanele", "Joao", "Beatriz", "Rafael", "Mariana", "Thiago", "Larissa",
    "Santiago", "Valeria", "Nicolas", "Ximena", "Oliver", "Charlotte", "George", "Alice", "Harry",
    "Florence", "Oscar", "Isla", "Archie", "Freya", "Aoife", "Cian", "Saoirse", "Oisin", "Niamh",
    "Eamon",
];

#[rustfmt::skip]
pub const LAST_NAMES: &[&str] = &[
    "Smith", "Johnson", "Williams", "Brown", "Jones", "Garcia", "Miller", "Davis", "Rodriguez",
    "Martinez", "Hernandez", "Lopez", "Gonzalez", "Wilson", "Anderson", "Thomas", "Taylor",
    "Moore", "Jackson", "Martin", "Lee", "Perez", "Thompson", "White", "Harris", "Sanchez",
    "Clark", "Ramirez", "Lewis", "Robinson", "Walker", "Young", "Allen", "King", "Wright", "Scott",
    "Torres", "Nguyen", "Hill", "Flores", "Green", "Adams", "Nelson", "Baker", "Hall", "Rivera",
    "Campbell", "Mitchell", "Carter", "Roberts", "Gomez", "Phillips", "Evans", "Turner", "Diaz",
    "Parker", "Cruz", "Edwards", "Collins", "Reyes", "Stewart", "Morris", "Morales", "Murphy",
    "Cook", "Rogers", "Gutierrez", "Ortiz", "Morgan", "Cooper", "Peterson", "Bailey", "Reed",
    "Kelly", "Howard", "Ramos", "Kim", "Cox", "Ward", "Richardson", "Watson", "Brooks", "Chavez",
    "Wood", "James", "Bennett", "Gray", "Mendoza", "Ruiz", "Hughes", "Price", "Alvarez",
    "Castillo", "Sanders", "Patel", "Myers", "Long", "Ross", "Foster", "Jimenez", "Müller",
    "Schmidt", "Schneider", "Fischer", "Weber", "Meyer", "Wagner", "Becker", "Schulz", "Hoffmann",
    "Schäfer", "Koch", "Bauer", "Richter", "Klein", "Wolf", "Schröder", "Neumann", "Schwarz",
    "Zimmermann", "Braun", "Krüger", "Hofmann", "Hartmann", "Lange", "Schmitt", "Werner", "Krause",
    "Meier", "Lehmann", "Bernard", "Dubois", "Thomas", "Robert", "Richard", "Petit", "Durand",
    "Leroy", "Moreau", "Simon", "Laurent", "Lefebvre", "Michel", "Fournier", "Girard", "Bonnet",
    "Dupont", "Lambert", "Fontaine", "Rousseau", "Vincent", "Faure", "Rossi", "Russo", "Ferrari",
    "Esposito", "Bianchi", "Romano", "Colombo", "Ricci", "Marino", "Greco", "Bruno", "Gallo",
    "Conti", "De Luca", "Costa", "Fernandez", "Gonzales", "Rodrigues", "Silva", "Santos",
    "Oliveira", "Souza", "Pereira", "Almeida", "Ferreira", "Carvalho", "Nilsson", "Johansson",
    "Larsson", "Andersson", "Karlsson", "Hansen", "Jensen", "Nielsen", "Pedersen", "Andersen",
    "Kowalski", "Nowak", "Wisniewski", "Wojcik", "Kaminski", "Lewandowski", "Novak", "Svoboda",
    "Dvorak", "Horvat", "Kovacs", "Nagy", "Szabo", "Popescu", "Ionescu", "Papadopoulos", "Yilmaz",
    "Kaya", "Demir", "Sahin", "Cohen", "Levi", "Sharma", "Singh", "Kumar", "Gupta", "Reddy",
    "Iyer", "Chen", "Wang", "Li", "Zhang", "Liu", "Yang", "Huang", "Zhao", "Wu", "Zhou", "Sato",
    "Suzuki", "Takahashi", "Tanaka", "Watanabe", "Ito", "Yamamoto", "Nakamura", "Park", "Choi",
    "Jung", "Kang", "Cho", "Tran", "Le", "Pham", "Hoang", "Okafor", "Adeyemi", "Mensah", "Owusu",
    "Mwangi", "Otieno", "Dlamini", "Nkosi", "Haddad", "Khalil", "Hassan", "Hussein", "O'Brien",
    "O'Connor", "Murray", "Byrne", "Walsh", "Doyle", "MacDonald", "Campbell", "Fraser",
];

/// Mail providers and company domains, most common first (the seed draws from the front more).
#[rustfmt::skip]
pub const EMAIL_DOMAINS: &[&str] = &[
    "gmail.com", "gmail.com", "gmail.com", "outlook.com", "yahoo.com", "hotmail.com", "icloud.com",
    "proton.me", "gmx.de", "web.de", "orange.fr", "libero.it", "aol.com", "fastmail.com",
    "example.com", "example.org", "northwind.example", "contoso.example", "fabrikam.example",
];

/// (city, ISO country code)
pub const CITIES: &[(&str, &str)] = &[
    ("Paris", "FR"),
    ("Lyon", "FR"),
    ("Berlin", "DE"),
    ("Munich", "DE"),
    ("Hamburg", "DE"),
    ("London", "GB"),
    ("Manchester", "GB"),
    ("Dublin", "IE"),
    ("Madrid", "ES"),
    ("Barcelona", "ES"),
    ("Lisbon", "PT"),
    ("Rome", "IT"),
    ("Milan", "IT"),
    ("Amsterdam", "NL"),
    ("Brussels", "BE"),
    ("Vienna", "AT"),
    ("Zurich", "CH"),
    ("Stockholm", "SE"),
    ("Copenhagen", "DK"),
    ("Oslo", "NO"),
    ("Warsaw", "PL"),
    ("Prague", "CZ"),
    ("New York", "US"),
    ("San Francisco", "US"),
    ("Austin", "US"),
    ("Chicago", "US"),
    ("Seattle", "US"),
    ("Boston", "US"),
    ("Toronto", "CA"),
    ("Montreal", "CA"),
    ("Mexico City", "MX"),
    ("São Paulo", "BR"),
    ("Buenos Aires", "AR"),
    ("Sydney", "AU"),
    ("Melbourne", "AU"),
    ("Auckland", "NZ"),
    ("Tokyo", "JP"),
    ("Seoul", "KR"),
    ("Singapore", "SG"),
    ("Bangalore", "IN"),
    ("Mumbai", "IN"),
    ("Dubai", "AE"),
    ("Cape Town", "ZA"),
    ("Nairobi", "KE"),
    ("Lagos", "NG"),
];

#[rustfmt::skip]
pub const LANGUAGES: &[&str] = &[
    "en", "en", "en", "de", "fr", "es", "it", "pt", "nl", "ja",
];

#[rustfmt::skip]
pub const TIMEZONES: &[&str] = &[
    "Europe/Paris", "Europe/Berlin", "Europe/London", "America/New_York", "America/Chicago",
    "America/Los_Angeles", "Asia/Tokyo", "Australia/Sydney", "UTC",
];

/// (name slug, display name, industry) of organizations tenants draw from.
pub const ORGANIZATIONS: &[(&str, &str, &str)] = &[
    ("northwind-traders", "Northwind Traders", "retail"),
    ("contoso", "Contoso Ltd", "technology"),
    ("fabrikam", "Fabrikam Inc", "manufacturing"),
    ("initech", "Initech", "software"),
    ("umbrella-health", "Umbrella Health", "healthcare"),
    ("hooli", "Hooli", "technology"),
    (
        "vandelay-industries",
        "Vandelay Industries",
        "import-export",
    ),
    ("stark-logistics", "Stark Logistics", "logistics"),
    ("wayne-financial", "Wayne Financial", "finance"),
    ("tyrell-biotech", "Tyrell Biotech", "biotech"),
    ("cyberdyne-systems", "Cyberdyne Systems", "robotics"),
    ("wonka-foods", "Wonka Foods", "food"),
    ("soylent-nutrition", "Soylent Nutrition", "food"),
    ("oceanic-airlines", "Oceanic Airlines", "travel"),
    ("blue-sun", "Blue Sun Corporation", "energy"),
    ("aperture-labs", "Aperture Labs", "research"),
];

/// (name, description, permissions, weight among users holding a role)
pub const ROLES: &[(&str, &str, &[&str], u32)] = &[
    (
        "admin",
        "Administrators: everything",
        &[
            "read:users",
            "update:users",
            "delete:users",
            "read:reports",
            "manage:billing",
        ],
        10,
    ),
    (
        "editor",
        "Edit content and profiles",
        &["read:users", "update:users", "read:reports"],
        25,
    ),
    (
        "viewer",
        "Read-only access",
        &["read:users", "read:reports"],
        40,
    ),
    (
        "support",
        "Customer support agents",
        &["read:users", "update:users", "read:logs"],
        15,
    ),
    (
        "billing",
        "Billing managers",
        &["read:reports", "manage:billing"],
        10,
    ),
];
