//! The tests: what each looks at in the message, the envelope or the
//! run, and how the values are compared with the keys (RFC 5228 §2.7).

use super::RuntimeError;
use super::date;
use super::exec::{Run, exhausted, flag_list, pick};
use crate::address::{detail, user};
use crate::matching::{self, order};
use crate::program::{AddressPart, DuplicateSource, Index, MatchKind, Matcher, Test, Zone};

/// The default period of the duplicate test: RFC 7352 §3.1 leaves it to
/// the implementation; a week, as Dovecot.
const DUPLICATE_PERIOD: u64 = 7 * 86_400;

impl Run<'_> {
    pub(crate) fn test(&mut self, test: &Test) -> Result<bool, RuntimeError> {
        self.budget.charge(1).map_err(exhausted)?;
        Ok(match test {
            Test::True => true,
            Test::False => false,
            Test::Not(test) => !self.test(test)?,
            Test::AllOf(tests) => {
                for test in tests {
                    if !self.test(test)? {
                        return Ok(false);
                    }
                }
                true
            }
            Test::AnyOf(tests) => {
                for test in tests {
                    if self.test(test)? {
                        return Ok(true);
                    }
                }
                false
            }
            Test::Exists(names) => self
                .texts(names)
                .iter()
                .all(|name| self.header.iter().any(|(field, _)| field.eq_ignore_ascii_case(name))),
            Test::Size { over, limit } => {
                let size = self.mail.size();
                if *over { size > *limit } else { size < *limit }
            }
            Test::Header {
                matcher,
                index,
                names,
                keys,
            } => {
                let values: Vec<String> = self
                    .field_values(names, *index)
                    .into_iter()
                    .map(|v| self.mail.decode(v.trim()))
                    .collect();
                self.match_values(matcher, &values, keys)?
            }
            Test::Address {
                matcher,
                part,
                index,
                names,
                keys,
            } => {
                let mut values = Vec::new();
                for value in self.field_values(names, *index) {
                    for address in self.mail.addresses(&value) {
                        let whole = if address.domain.is_empty() {
                            address.local.clone()
                        } else {
                            format!("{}@{}", address.local, address.domain)
                        };
                        values.extend(address_part(*part, &whole));
                    }
                }
                self.match_values(matcher, &values, keys)?
            }
            Test::Envelope {
                matcher,
                part,
                names,
                keys,
            } => {
                let mut values = Vec::new();
                for name in self.texts(names) {
                    let address = match name.to_ascii_lowercase().as_str() {
                        "from" => Some(self.envelope.from.clone()),
                        "to" => Some(self.envelope.to.clone()),
                        "auth" => self.envelope.auth.clone(),
                        _ => None,
                    };
                    match address {
                        // RFC 5228 §5.4: the null reverse-path is the
                        // empty string whatever the address part.
                        Some(address) if address.is_empty() => values.push(String::new()),
                        Some(address) => values.extend(address_part(*part, &address)),
                        None => {}
                    }
                }
                self.match_values(matcher, &values, keys)?
            }
            Test::Body {
                matcher,
                transform,
                keys,
            } => {
                let values = self.mail.body(transform);
                self.match_values(matcher, &values, keys)?
            }
            Test::Date {
                matcher,
                zone,
                index,
                name,
                part,
                keys,
            } => {
                let values = self.field_values(
                    std::slice::from_ref(name),
                    Some(index.unwrap_or(Index {
                        position: 1,
                        from_last: false,
                    })),
                );
                let part = self.text(part);
                let dates: Vec<String> = values
                    .iter()
                    .filter_map(|value| date_of(self.mail, value))
                    .filter_map(|(time, written)| {
                        let offset = match zone {
                            Zone::Original => written,
                            Zone::Fixed(zone) => date::zone_minutes(zone)?,
                            Zone::Local => self.host.now().1,
                        };
                        date::part(&part, time, offset)
                    })
                    .collect();
                self.match_values(matcher, &dates, keys)?
            }
            Test::CurrentDate {
                matcher,
                zone,
                part,
                keys,
            } => {
                let (now, local) = self.host.now();
                let offset = match zone {
                    Zone::Fixed(zone) => date::zone_minutes(zone).unwrap_or(local),
                    _ => local,
                };
                let values: Vec<String> = date::part(&self.text(part), now, offset).into_iter().collect();
                self.match_values(matcher, &values, keys)?
            }
            Test::String { matcher, sources, keys } => {
                let values = self.texts(sources);
                // RFC 5229 §5: for :count, empty strings are not counted.
                let values = match matcher.kind {
                    MatchKind::Count(_) => values.into_iter().filter(|v| !v.is_empty()).collect(),
                    _ => values,
                };
                self.match_values(matcher, &values, keys)?
            }
            Test::HasFlag {
                matcher,
                variables,
                keys,
            } => {
                let flags = if variables.is_empty() {
                    self.flags.clone()
                } else {
                    let values: Vec<String> = variables.iter().map(|v| self.text(&format!("${{{v}}}"))).collect();
                    flag_list(&values)
                };
                self.match_values(matcher, &flags, keys)?
            }
            Test::Environment { matcher, name, keys } => {
                let values: Vec<String> = self
                    .host
                    .environment(&self.text(name).to_ascii_lowercase())
                    .into_iter()
                    .collect();
                self.match_values(matcher, &values, keys)?
            }
            Test::Duplicate {
                handle,
                source,
                seconds,
                last,
            } => {
                let id = match source {
                    DuplicateSource::MessageId => self
                        .field_values(&["message-id".to_string()], None)
                        .first()
                        .map(|v| v.trim().to_string()),
                    DuplicateSource::Header(name) => self
                        .field_values(&[self.text(name)], None)
                        .first()
                        .map(|v| v.trim().to_string()),
                    DuplicateSource::UniqueId(id) => Some(self.text(id)),
                };
                // RFC 7352 §3.1: no identifier, no duplicate.
                let Some(id) = id.filter(|id| !id.is_empty()) else {
                    return Ok(false);
                };
                let key = format!(
                    "{}\0{}",
                    handle.as_deref().map(|h| self.text(h)).unwrap_or_default(),
                    id
                );
                let seen = self.host.duplicate_seen(&key);
                self.duplicates.push(super::DuplicateKey {
                    key,
                    seconds: seconds.unwrap_or(DUPLICATE_PERIOD),
                    last: *last,
                });
                seen
            }
            Test::MailboxExists(names) => self.texts(names).iter().all(|name| self.host.mailbox_exists(name)),
            Test::SpecialUseExists { mailbox, uses } => {
                let mailbox = mailbox.as_ref().map(|m| self.text(m));
                self.host.special_use_exists(mailbox.as_deref(), &self.texts(uses))
            }
        })
    }

    /// The values of the named header fields, in header order per name;
    /// with an index, only the occurrence it picks (RFC 5260 §6).
    pub(crate) fn field_values(&self, names: &[String], index: Option<Index>) -> Vec<String> {
        let mut values = Vec::new();
        for name in self.texts(names) {
            let positions: Vec<usize> = (0..self.header.len())
                .filter(|&i| self.header[i].0.eq_ignore_ascii_case(&name))
                .collect();
            match index {
                None => values.extend(positions.iter().map(|&i| self.header[i].1.clone())),
                Some(index) => values.extend(pick(&positions, index).map(|i| self.header[i].1.clone())),
            }
        }
        values
    }

    /// Whether any value matches any key; :count compares how many
    /// values there are. A successful :matches sets the match variables.
    pub(crate) fn match_values(
        &mut self,
        matcher: &Matcher,
        values: &[String],
        keys: &[String],
    ) -> Result<bool, RuntimeError> {
        let keys = self.texts(keys);
        if let MatchKind::Count(relation) = matcher.kind {
            let count = values.len().to_string();
            return Ok(keys
                .iter()
                .any(|key| relation.holds(order(matcher.comparator, &count, key))));
        }
        let mut captures = Vec::new();
        let want_captures = self.expand && matcher.kind == MatchKind::Matches;
        for value in values {
            for key in &keys {
                let hit = matching::matches(
                    matcher.comparator,
                    matcher.kind,
                    value,
                    key,
                    want_captures.then_some(&mut captures),
                    &mut self.budget,
                )
                .map_err(exhausted)?;
                if hit {
                    if want_captures {
                        self.vars.matched = std::mem::take(&mut captures);
                    }
                    return Ok(true);
                }
            }
        }
        Ok(false)
    }
}

/// The date-time of a field value. RFC 5260 §4: a field such as
/// Received holds other text before its date-time, which then follows
/// the last semicolon.
fn date_of(mail: &dyn super::Mail, value: &str) -> Option<(i64, i32)> {
    mail.date(value)
        .or_else(|| value.rsplit_once(';').and_then(|(_, date)| mail.date(date)))
}

/// The part of an address a test compares (RFC 5228 §2.7.4, RFC 5233);
/// none when the address has no such part (a :detail of an address
/// without a separator matches nothing).
fn address_part(part: AddressPart, address: &str) -> Option<String> {
    let (local, domain) = address.rsplit_once('@').unwrap_or((address, ""));
    Some(match part {
        AddressPart::All => address.to_string(),
        AddressPart::LocalPart => local.to_string(),
        AddressPart::Domain => domain.to_string(),
        AddressPart::User => user(local).to_string(),
        AddressPart::Detail => detail(local)?.to_string(),
    })
}
