//! The `_mta-sts.DOMAIN` TXT record (RFC 8461 §3.1): it says a policy
//! exists and names its version with `id`, so a sender fetches the policy
//! again only when the id changes.

/// The longest `id` (§3.1: `1*32(ALPHA / DIGIT)`).
const MAX_ID: usize = 32;

/// The policy id announced by a domain's TXT records at `_mta-sts.DOMAIN`,
/// or `None` when they announce no usable policy. §3.1: records that do not
/// begin with `v=STSv1;` are ignored; if not exactly one remains, or the one
/// left is invalid, the domain has no policy.
pub fn policy_id(records: &[String]) -> Option<String> {
    let mut sts = records.iter().filter(|record| is_sts(record));
    let record = sts.next()?;
    if sts.next().is_some() {
        return None;
    }
    parse_record(record)
}

/// §3.1: `sts-version` is `%s"v=STSv1"`, case-sensitive, followed by a
/// field delimiter (or nothing).
fn is_sts(record: &str) -> bool {
    record.strip_prefix("v=STSv1").is_some_and(|rest| {
        rest.trim_start_matches([' ', '\t']).is_empty() || rest.trim_start_matches([' ', '\t']).starts_with(';')
    })
}

/// The id of one record, if the record is valid:
/// `sts-version 1*(sts-field-delim sts-field) [sts-field-delim]`, where a
/// field is `id=` or an extension (`name=value`, ignored), and the
/// delimiter is `*WSP ";" *WSP`.
pub fn parse_record(record: &str) -> Option<String> {
    let rest = record.strip_prefix("v=STSv1")?;
    let mut fields = rest.split(';');
    // Before the first ';' only white space may follow the version.
    if !fields.next()?.trim_matches([' ', '\t']).is_empty() {
        return None;
    }
    let mut id = None;
    let mut any = false;
    let fields: Vec<&str> = fields.map(|f| f.trim_matches([' ', '\t'])).collect();
    for (i, field) in fields.iter().enumerate() {
        if field.is_empty() {
            // Only the last delimiter may stand alone: "v=STSv1; id=1;".
            if i + 1 == fields.len() && any {
                continue;
            }
            return None;
        }
        any = true;
        let (name, value) = field.split_once('=')?;
        if name == "id" {
            // The first id counts; §3.1 defines no repetition.
            if id.is_none() {
                if value.is_empty() || value.len() > MAX_ID || !value.bytes().all(|b| b.is_ascii_alphanumeric()) {
                    return None;
                }
                id = Some(value.to_string());
            }
        } else if !valid_extension(name, value) {
            return None;
        }
    }
    id
}

/// `sts-ext-name = (ALPHA / DIGIT) *31(ALPHA / DIGIT / "_" / "-" / ".")`,
/// `sts-ext-value = 1*(%x21-3A / %x3C / %x3E-7E)`.
fn valid_extension(name: &str, value: &str) -> bool {
    let name_ok = name.len() <= 32
        && name.bytes().next().is_some_and(|b| b.is_ascii_alphanumeric())
        && name.bytes().all(|b| b.is_ascii_alphanumeric() || b"_-.".contains(&b));
    let value_ok = !value.is_empty()
        && value
            .bytes()
            .all(|b| (0x21..=0x7e).contains(&b) && b != b';' && b != b'=');
    name_ok && value_ok
}
