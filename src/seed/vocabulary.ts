/**
 * What seeded people are made of: first and last names from many languages,
 * the places they live (with time zones and dialling codes), e-mail domains,
 * tags and notes, and the ASCII slugs of names for handles and addresses.
 */
import { weightedTable } from './random.ts'

/** First names from many languages, with accents and apostrophes (they exercise sorting and search). */
export const FIRST_NAMES = [
  'Anna', 'Ben', 'Clara', 'David', 'Elena', 'Felix', 'Greta', 'Hannah', 'Ivan', 'Jonas', 'Kira', 'Lena', 'Mia',
  'Noah', 'Olivia', 'Paul', 'Quentin', 'Rosa', 'Sofia', 'Tom', 'Uma', 'Victor', 'Wen', 'Xavier', 'Yara', 'Zoë',
  'Aisha', 'Arjun', 'Bilal', 'Camila', 'Chen', 'Dmitri', 'Emeka', 'Fatima', 'Gabriel', 'Haruto', 'Ingrid', 'José',
  'Kwame', 'Lucía', 'Mateo', 'Nadia', 'Oskar', 'Priya', 'Rahul', 'Sakura', 'Siobhán', 'Tariq', 'Valentina', 'Wiktor',
  'Yusuf', 'Zainab', 'Amélie', 'Björn', 'Chloé', 'Dara', 'Elif', 'François', 'Giulia', 'Hiro', 'Isabel', 'Jamal',
  'Katarzyna', 'Liam', 'Maëlle', 'Nikolai', 'Omar', 'Pedro', 'Ravi', 'Sanne', 'Theo', 'Ulla', 'Vera', 'William',
  'Ximena', 'Youssef', 'Zofia', 'Alex', 'Sam', 'Charlie', 'Robin', 'Jordan', 'Max', 'Luca', 'Emma', 'Leon', 'Marie',
] as const

/** Last names, some of two words or with an apostrophe. */
export const LAST_NAMES = [
  'Müller', 'Schmidt', 'Schneider', 'Fischer', 'Weber', 'Meyer', 'Wagner', 'Becker', 'Hoffmann', 'Schulz', 'Smith',
  'Johnson', 'Williams', 'Brown', 'Jones', 'Garcia', 'Miller', 'Davis', 'Rodriguez', 'Martínez', 'Hernández', 'López',
  'González', 'Wilson', 'Anderson', 'Thomas', 'Taylor', 'Moore', 'Martin', 'Lee', "O'Brien", 'Murphy', 'Kelly',
  'Nguyen', 'Tran', 'Kim', 'Park', 'Choi', 'Wang', 'Li', 'Zhang', 'Liu', 'Chen', 'Yamamoto', 'Tanaka', 'Suzuki',
  'Sato', 'Patel', 'Sharma', 'Singh', 'Gupta', 'Iyer', 'Khan', 'Ahmed', 'Hassan', 'Okafor', 'Mensah', 'Adeyemi',
  'Silva', 'Santos', 'Oliveira', 'Costa', 'Rossi', 'Russo', 'Ferrari', 'Dubois', 'Lefèvre', 'Moreau', 'Janssen',
  'de Vries', 'van Dijk', 'Nowak', 'Kowalski', 'Novák', 'Ivanova', 'Petrov', 'Andersson', 'Johansson', 'Nielsen',
  'Hansen', 'Virtanen', 'Yılmaz', 'Kaya', 'Papadopoulos', 'Cohen', 'Levi', 'Rahman', 'Haddad', 'Mwangi',
] as const

/** Where a contact lives: a city, its IANA time zone and its dialling code (`+49`). */
export interface Place {
  location: string
  timezone: string
  dialCode: string
}

/**
 * Where contacts live. IANA zones with and without DST, and the odd ones:
 * half-hour (Kolkata, Tehran, Adelaide with DST, Darwin without, St. John's),
 * quarter-hour (Kathmandu, Chatham), and the date line (Auckland, Kiritimati).
 */
const PLACE_WEIGHTS: readonly (readonly [Place, number])[] = [
  [{ location: 'Berlin, Germany', timezone: 'Europe/Berlin', dialCode: '+49' }, 18],
  [{ location: 'Hamburg, Germany', timezone: 'Europe/Berlin', dialCode: '+49' }, 6],
  [{ location: 'Munich, Germany', timezone: 'Europe/Berlin', dialCode: '+49' }, 6],
  [{ location: 'Vienna, Austria', timezone: 'Europe/Vienna', dialCode: '+43' }, 3],
  [{ location: 'Zurich, Switzerland', timezone: 'Europe/Zurich', dialCode: '+41' }, 3],
  [{ location: 'London, United Kingdom', timezone: 'Europe/London', dialCode: '+44' }, 6],
  [{ location: 'Dublin, Ireland', timezone: 'Europe/Dublin', dialCode: '+353' }, 2],
  [{ location: 'Lisbon, Portugal', timezone: 'Europe/Lisbon', dialCode: '+351' }, 2],
  [{ location: 'Paris, France', timezone: 'Europe/Paris', dialCode: '+33' }, 4],
  [{ location: 'Madrid, Spain', timezone: 'Europe/Madrid', dialCode: '+34' }, 3],
  [{ location: 'Amsterdam, Netherlands', timezone: 'Europe/Amsterdam', dialCode: '+31' }, 3],
  [{ location: 'Warsaw, Poland', timezone: 'Europe/Warsaw', dialCode: '+48' }, 2],
  [{ location: 'Stockholm, Sweden', timezone: 'Europe/Stockholm', dialCode: '+46' }, 2],
  [{ location: 'Helsinki, Finland', timezone: 'Europe/Helsinki', dialCode: '+358' }, 1],
  [{ location: 'Athens, Greece', timezone: 'Europe/Athens', dialCode: '+30' }, 1],
  [{ location: 'Istanbul, Türkiye', timezone: 'Europe/Istanbul', dialCode: '+90' }, 2],
  [{ location: 'Moscow, Russia', timezone: 'Europe/Moscow', dialCode: '+7' }, 1],
  [{ location: 'Cairo, Egypt', timezone: 'Africa/Cairo', dialCode: '+20' }, 1],
  [{ location: 'Lagos, Nigeria', timezone: 'Africa/Lagos', dialCode: '+234' }, 2],
  [{ location: 'Nairobi, Kenya', timezone: 'Africa/Nairobi', dialCode: '+254' }, 1],
  [{ location: 'Cape Town, South Africa', timezone: 'Africa/Johannesburg', dialCode: '+27' }, 1],
  [{ location: 'Tehran, Iran', timezone: 'Asia/Tehran', dialCode: '+98' }, 1],
  [{ location: 'Dubai, United Arab Emirates', timezone: 'Asia/Dubai', dialCode: '+971' }, 1],
  [{ location: 'Mumbai, India', timezone: 'Asia/Kolkata', dialCode: '+91' }, 3],
  [{ location: 'Bengaluru, India', timezone: 'Asia/Kolkata', dialCode: '+91' }, 3],
  [{ location: 'Kathmandu, Nepal', timezone: 'Asia/Kathmandu', dialCode: '+977' }, 1],
  [{ location: 'Yangon, Myanmar', timezone: 'Asia/Yangon', dialCode: '+95' }, 1],
  [{ location: 'Singapore', timezone: 'Asia/Singapore', dialCode: '+65' }, 2],
  [{ location: 'Shanghai, China', timezone: 'Asia/Shanghai', dialCode: '+86' }, 2],
  [{ location: 'Seoul, South Korea', timezone: 'Asia/Seoul', dialCode: '+82' }, 2],
  [{ location: 'Tokyo, Japan', timezone: 'Asia/Tokyo', dialCode: '+81' }, 3],
  [{ location: 'Darwin, Australia', timezone: 'Australia/Darwin', dialCode: '+61' }, 1],
  [{ location: 'Adelaide, Australia', timezone: 'Australia/Adelaide', dialCode: '+61' }, 1],
  [{ location: 'Sydney, Australia', timezone: 'Australia/Sydney', dialCode: '+61' }, 3],
  [{ location: 'Auckland, New Zealand', timezone: 'Pacific/Auckland', dialCode: '+64' }, 1],
  [{ location: 'Chatham Islands, New Zealand', timezone: 'Pacific/Chatham', dialCode: '+64' }, 0.2],
  [{ location: 'Kiritimati, Kiribati', timezone: 'Pacific/Kiritimati', dialCode: '+686' }, 0.2],
  [{ location: 'Honolulu, USA', timezone: 'Pacific/Honolulu', dialCode: '+1' }, 1],
  [{ location: 'San Francisco, USA', timezone: 'America/Los_Angeles', dialCode: '+1' }, 4],
  [{ location: 'Phoenix, USA', timezone: 'America/Phoenix', dialCode: '+1' }, 1],
  [{ location: 'Denver, USA', timezone: 'America/Denver', dialCode: '+1' }, 1],
  [{ location: 'Chicago, USA', timezone: 'America/Chicago', dialCode: '+1' }, 2],
  [{ location: 'New York, USA', timezone: 'America/New_York', dialCode: '+1' }, 5],
  [{ location: 'Toronto, Canada', timezone: 'America/Toronto', dialCode: '+1' }, 2],
  [{ location: "St. John's, Canada", timezone: 'America/St_Johns', dialCode: '+1' }, 0.5],
  [{ location: 'Mexico City, Mexico', timezone: 'America/Mexico_City', dialCode: '+52' }, 2],
  [{ location: 'Bogotá, Colombia', timezone: 'America/Bogota', dialCode: '+57' }, 1],
  [{ location: 'São Paulo, Brazil', timezone: 'America/Sao_Paulo', dialCode: '+55' }, 2],
  [{ location: 'Buenos Aires, Argentina', timezone: 'America/Argentina/Buenos_Aires', dialCode: '+54' }, 1],
]

/** Every time zone the generator may assign (for tests and docs). */
export const SEED_TIME_ZONES: readonly string[] = [...new Set(PLACE_WEIGHTS.map(([place]) => place.timezone))]

/** The places, weighted (`Random.weighted` picks one). */
export const PLACES = weightedTable(PLACE_WEIGHTS)

/** Domains of the contacts' e-mail addresses. */
export const EMAIL_DOMAINS = ['gmail.com', 'outlook.com', 'proton.me', 'posteo.de', 'icloud.com', 'fastmail.com', 'web.de', 'yahoo.com']

/** Tags a contact may carry (0 to 3 of them). */
export const TAGS = [
  'friend', 'family', 'work', 'climbing', 'college', 'neighbour', 'book club', 'mentor', 'runner', 'foodie',
  'music', 'travel', 'parent', 'startup', 'board games', 'school',
] as const

/** Notes, a few of them multi-line or with quotes, tabs and backslashes (they exercise COPY escaping). */
export const NOTES = [
  'Met at a conference in Lisbon.',
  'Loves climbing; ask about the Frankenjura trip.',
  'Kids: Mila (6) and Jonah (3).',
  'Birthday in spring — send a card.',
  'Prefers voice messages over texts.',
  'Allergic to nuts.\nVegetarian since 2019.',
  'Owes me a book: "The Dispossessed".',
  'Moved abroad last year.\nTime difference: call in the morning.',
  'Shares playlists\tusually on Fridays.',
  'Wi-Fi password at their place: C:\\guest\\2024 (ask first).',
  'Former team lead; good for career advice.',
  'We run the Sunday 10k together.',
  "Doesn't do phone calls, only walks.",
] as const

/** Networks of `otherSocialMedia`. */
export const OTHER_SOCIAL = ['mastodon', 'github', 'bluesky', 'signal', 'threads'] as const

/** ASCII slug of a name part for handles and e-mail addresses ("Siobhán" -> "siobhan", "O'Brien" -> "obrien"). */
function slug(text: string): string {
  return text
    .normalize('NFD')
    .replace(/[\u0300-\u036f]/g, '')
    .replace(/ı/g, 'i')
    .toLowerCase()
    .replace(/[^a-z0-9]/g, '')
}

const SLUGS = new Map<string, string>([...FIRST_NAMES, ...LAST_NAMES].map((name) => [name, slug(name)]))
/** The slug of one of {@link FIRST_NAMES} or {@link LAST_NAMES} (computed once). */
export const slugOf = (name: string) => SLUGS.get(name) as string
