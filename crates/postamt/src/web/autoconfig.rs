//! Client autoconfiguration: what a mail client fetches to learn the
//! servers, ports and TLS to use for an address, so that its user types
//! only the address and the password.
//!
//! - Thunderbird's autoconfig (`config-v1.1.xml`), fetched from
//!   `https://autoconfig.DOMAIN/mail/config-v1.1.xml?emailaddress=...` or
//!   `https://DOMAIN/.well-known/autoconfig/mail/config-v1.1.xml`.
//! - Outlook's autodiscover, the plain-old-XML form: a POST to
//!   `/autodiscover/autodiscover.xml` whose body names the address.
//! - An Apple configuration profile (`.mobileconfig`, unsigned) with a
//!   `com.apple.mail.managed` payload, at `/apple/mobileconfig?email=...`
//!   for a user to open on an iPhone or a Mac.
//!
//! Only for hosted domains (404 otherwise), and only the services whose
//! listeners are on, with the public host and ports of `[http]`
//! ([`super::settings::ClientSettings`]), implicit TLS first (RFC 8314).

use super::request::Request;
use super::settings::ClientService;
use super::xml::escape;
use super::{Response, Web};

pub const THUNDERBIRD_PATH: &str = "/.well-known/autoconfig/mail/config-v1.1.xml";
pub const THUNDERBIRD_HOST_PATH: &str = "/mail/config-v1.1.xml";
pub const AUTODISCOVER_PATH: &str = "/autodiscover/autodiscover.xml";
pub const AUTODISCOVER_PATH_CAPITALISED: &str = "/Autodiscover/Autodiscover.xml";
pub const APPLE_PATH: &str = "/apple/mobileconfig";

/// Thunderbird's autoconfig file for the domain of `?emailaddress=`, or
/// else of the host asked (`autoconfig.DOMAIN` or `DOMAIN` itself).
pub async fn thunderbird(web: &Web, request: &Request) -> Response {
    let asked = match request.query_param("emailaddress") {
        Some(address) => match store::split_address(&address) {
            Some((_, domain)) => domain,
            None => return Response::text(400, "emailaddress is not an address\n"),
        },
        None => {
            let host = request.host();
            host.strip_prefix("autoconfig.").unwrap_or(&host).to_string()
        }
    };
    let Some(domain) = web.hosted(&asked).await else {
        return Response::not_found();
    };
    let domain = escape(&domain);
    let mut xml = format!(
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<clientConfig version=\"1.1\">\n  \
         <emailProvider id=\"{domain}\">\n    <domain>{domain}</domain>\n    \
         <displayName>{domain}</displayName>\n    <displayShortName>{domain}</displayShortName>\n"
    );
    let settings = web.settings();
    let host = escape(&settings.clients.host);
    for service in &settings.clients.services {
        let element = if service.protocol == "smtp" {
            "outgoingServer"
        } else {
            "incomingServer"
        };
        // socketType SSL is implicit TLS; STARTTLS upgrades a plain start.
        let socket = if service.implicit_tls { "SSL" } else { "STARTTLS" };
        xml.push_str(&format!(
            "    <{element} type=\"{}\">\n      <hostname>{host}</hostname>\n      <port>{}</port>\n      \
             <socketType>{socket}</socketType>\n      <authentication>password-cleartext</authentication>\n      \
             <username>%EMAILADDRESS%</username>\n    </{element}>\n",
            service.protocol, service.port
        ));
    }
    xml.push_str("  </emailProvider>\n</clientConfig>\n");
    Response::new(200, "application/xml; charset=utf-8", xml.into_bytes())
}

/// Outlook's autodiscover (POX): the address from the request's
/// `<EMailAddress>`, the IMAP (or POP3) and SMTP settings in the answer.
pub async fn autodiscover(web: &Web, request: &Request) -> Response {
    let Some(address) = email_address_element(&request.body) else {
        return Response::text(400, "no EMailAddress in the request\n");
    };
    let Some((_, domain)) = store::split_address(&address) else {
        return Response::text(400, "EMailAddress is not an address\n");
    };
    if web.hosted(&domain).await.is_none() {
        return Response::not_found();
    }
    let mut protocols = String::new();
    let clients = &web.settings().clients;
    let incoming = clients.first("imap").or_else(|| clients.first("pop3"));
    for service in incoming.into_iter().chain(clients.first("smtp")) {
        // Encryption (which overrides SSL) tells implicit TLS from STARTTLS.
        let encryption = if service.implicit_tls { "SSL" } else { "TLS" };
        protocols.push_str(&format!(
            "      <Protocol>\n        <Type>{}</Type>\n        <Server>{}</Server>\n        <Port>{}</Port>\n        \
             <LoginName>{}</LoginName>\n        <DomainRequired>off</DomainRequired>\n        <SPA>off</SPA>\n        \
             <SSL>on</SSL>\n        <Encryption>{encryption}</Encryption>\n        <AuthRequired>on</AuthRequired>\n      \
             </Protocol>\n",
            service.protocol.to_ascii_uppercase(),
            escape(&clients.host),
            service.port,
            escape(&address),
        ));
    }
    let xml = format!(
        "<?xml version=\"1.0\" encoding=\"utf-8\"?>\n\
         <Autodiscover xmlns=\"http://schemas.microsoft.com/exchange/autodiscover/responseschema/2006\">\n  \
         <Response xmlns=\"http://schemas.microsoft.com/exchange/autodiscover/outlook/responseschema/2006a\">\n    \
         <Account>\n      <AccountType>email</AccountType>\n      <Action>settings</Action>\n{protocols}    \
         </Account>\n  </Response>\n</Autodiscover>\n"
    );
    Response::new(200, "application/xml; charset=utf-8", xml.into_bytes())
}

/// The text of the request's `<EMailAddress>` element (whatever its
/// namespace prefix). The body is bounded (see [`super::request`]) and
/// only this one element is wanted, so it is found, not parsed.
fn email_address_element(body: &[u8]) -> Option<String> {
    let text = std::str::from_utf8(body).ok()?;
    let open = text.find("EMailAddress>")? + "EMailAddress>".len();
    let rest = &text[open..];
    let value = rest[..rest.find('<')?].trim();
    // Entities are not expected in an address; one there makes it invalid.
    (!value.is_empty() && !value.contains('&')).then(|| value.to_string())
}

/// An Apple configuration profile for `?email=`: one mail account, IMAP
/// (or POP3) and SMTP, passwords asked for on the device.
pub async fn apple(web: &Web, request: &Request) -> Response {
    let Some(address) = request.query_param("email") else {
        return Response::text(400, "give the address as ?email=\n");
    };
    let Some((_, domain)) = store::split_address(&address) else {
        return Response::text(400, "email is not an address\n");
    };
    if web.hosted(&domain).await.is_none() {
        return Response::not_found();
    }
    let clients = &web.settings().clients;
    let incoming = clients.first("imap").or_else(|| clients.first("pop3"));
    let (Some(incoming), Some(outgoing)) = (incoming, clients.first("smtp")) else {
        return Response::text(404, "no IMAP, POP3 or submission listener is on\n");
    };
    let mut response = Response::new(
        200,
        "application/x-apple-aspen-config",
        profile(&clients.host, &address, incoming, outgoing).into_bytes(),
    );
    response.headers.push((
        "Content-Disposition",
        "attachment; filename=\"mail.mobileconfig\"".into(),
    ));
    response
}

fn profile(host: &str, address: &str, incoming: ClientService, outgoing: ClientService) -> String {
    let kind = if incoming.protocol == "imap" {
        "EmailTypeIMAP"
    } else {
        "EmailTypePOP"
    };
    // Reverse-DNS identifiers, stable per address so that a profile
    // installed again replaces the first instead of adding a second.
    let identifier = format!("{}.mail.{}", reversed(host), uuid(&["profile", address]));
    let (host, shown) = (escape(host), escape(address));
    format!(
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n\
         <!DOCTYPE plist PUBLIC \"-//Apple//DTD PLIST 1.0//EN\" \"http://www.apple.com/DTDs/PropertyList-1.0.dtd\">\n\
         <plist version=\"1.0\">\n<dict>\n\
         <key>PayloadContent</key>\n<array>\n<dict>\n\
         <key>EmailAccountDescription</key><string>{shown}</string>\n\
         <key>EmailAccountType</key><string>{kind}</string>\n\
         <key>EmailAddress</key><string>{shown}</string>\n\
         <key>IncomingMailServerAuthentication</key><string>EmailAuthPassword</string>\n\
         <key>IncomingMailServerHostName</key><string>{host}</string>\n\
         <key>IncomingMailServerPortNumber</key><integer>{}</integer>\n\
         <key>IncomingMailServerUseSSL</key><true/>\n\
         <key>IncomingMailServerUsername</key><string>{shown}</string>\n\
         <key>OutgoingMailServerAuthentication</key><string>EmailAuthPassword</string>\n\
         <key>OutgoingMailServerHostName</key><string>{host}</string>\n\
         <key>OutgoingMailServerPortNumber</key><integer>{}</integer>\n\
         <key>OutgoingMailServerUseSSL</key><true/>\n\
         <key>OutgoingMailServerUsername</key><string>{shown}</string>\n\
         <key>OutgoingPasswordSameAsIncomingPassword</key><true/>\n\
         <key>PayloadDisplayName</key><string>{shown}</string>\n\
         <key>PayloadIdentifier</key><string>{identifier}.account</string>\n\
         <key>PayloadType</key><string>com.apple.mail.managed</string>\n\
         <key>PayloadUUID</key><string>{}</string>\n\
         <key>PayloadVersion</key><integer>1</integer>\n\
         </dict>\n</array>\n\
         <key>PayloadDisplayName</key><string>Mail for {shown}</string>\n\
         <key>PayloadIdentifier</key><string>{identifier}</string>\n\
         <key>PayloadRemovalDisallowed</key><false/>\n\
         <key>PayloadType</key><string>Configuration</string>\n\
         <key>PayloadUUID</key><string>{}</string>\n\
         <key>PayloadVersion</key><integer>1</integer>\n\
         </dict>\n</plist>\n",
        incoming.port,
        outgoing.port,
        uuid(&["account", address]),
        uuid(&["profile", address]),
    )
}

/// `mx.example.org` → `org.example.mx`.
fn reversed(host: &str) -> String {
    host.split('.').rev().collect::<Vec<_>>().join(".")
}

/// A UUID derived from `parts` (name-based, version 5 style over SHA-256
/// cut to 16 bytes, RFC 9562 §5.5's layout): the same address always
/// gets the same UUIDs.
fn uuid(parts: &[&str]) -> String {
    let mut context = ring::digest::Context::new(&ring::digest::SHA256);
    context.update(b"postamt mobileconfig");
    for part in parts {
        context.update(b"\0");
        context.update(part.to_ascii_lowercase().as_bytes());
    }
    let digest = context.finish();
    let mut bytes = [0u8; 16];
    bytes.copy_from_slice(&digest.as_ref()[..16]);
    bytes[6] = (bytes[6] & 0x0f) | 0x50;
    bytes[8] = (bytes[8] & 0x3f) | 0x80;
    let hex: String = bytes.iter().map(|b| format!("{b:02X}")).collect();
    format!(
        "{}-{}-{}-{}-{}",
        &hex[..8],
        &hex[8..12],
        &hex[12..16],
        &hex[16..20],
        &hex[20..]
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_address_is_found_in_an_autodiscover_request() {
        let body = br#"<?xml version="1.0"?><Autodiscover xmlns="http://schemas.microsoft.com/exchange/autodiscover/outlook/requestschema/2006"><Request><EMailAddress> alice@example.org </EMailAddress></Request></Autodiscover>"#;
        assert_eq!(email_address_element(body).as_deref(), Some("alice@example.org"));
        assert_eq!(email_address_element(b"<EMailAddress></EMailAddress>"), None);
        assert_eq!(email_address_element(b"<x/>"), None);
    }

    #[test]
    fn uuids_are_stable_and_well_formed() {
        let a = uuid(&["profile", "alice@example.org"]);
        assert_eq!(a, uuid(&["profile", "Alice@Example.org"]));
        assert_ne!(a, uuid(&["account", "alice@example.org"]));
        assert_eq!(a.len(), 36);
        assert_eq!(&a[14..15], "5");
    }
}
