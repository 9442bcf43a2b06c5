//! Client autoconfiguration and the MTA-STS policy end to end, over the
//! server's HTTP and HTTPS listeners, read as the clients read them:
//! Thunderbird's config-v1.1.xml and Outlook's autodiscover answer with
//! Python's xml.etree, the Apple profile with plistlib, the policy as
//! RFC 8461 §3.2 lays it out.

mod common;

use common::Server;

/// The public ports and host clients are told differ from the listeners'
/// (as behind NAT): the answers must use these.
const CONFIG: &str = "[http]\nclient_host = \"mail.example.test\"\nimaps_port = 10993\n\
                      [mta_sts]\nmode = \"enforce\"\nmx = [\"mx2.example.test\"]\nmax_age = 1209600\n";

/// Python: `get(path, host, secure=False, body=None)` → (status, headers, body).
const FETCH: &str = r#"
import http.client, os, ssl
def get(path, host, secure=False, body=None):
    if secure:
        connection = http.client.HTTPSConnection("127.0.0.1", int(os.environ["HTTPS_PORT"]), timeout=10,
                                                 context=ssl._create_unverified_context())
    else:
        connection = http.client.HTTPConnection("127.0.0.1", int(os.environ["HTTP_PORT"]), timeout=10)
    headers = {"Host": host}
    if body is not None:
        headers["Content-Type"] = "text/xml"
    connection.request("GET" if body is None else "POST", path, body=body, headers=headers)
    response = connection.getresponse()
    return response.status, response, response.read()
"#;

#[test]
fn thunderbird_autoconfig_names_the_configured_services_and_ports() {
    let server = Server::with_users(CONFIG);
    let out = server.python(&format!(
        "{FETCH}{}",
        r#"
import xml.etree.ElementTree as ET

def servers(status, response, body):
    assert status == 200, (status, body)
    assert response.getheader("Content-Type").startswith("application/xml"), response.getheader("Content-Type")
    root = ET.fromstring(body)
    assert root.tag == "clientConfig" and root.get("version") == "1.1"
    provider = root.find("emailProvider")
    assert provider.find("domain").text == "example.test"
    found = []
    for element in provider:
        if element.tag in ("incomingServer", "outgoingServer"):
            assert element.find("authentication").text == "password-cleartext"
            assert element.find("username").text == "%EMAILADDRESS%"
            found.append(" ".join([element.tag, element.get("type"), element.find("hostname").text,
                                   element.find("port").text, element.find("socketType").text]))
    return found

# As Thunderbird asks: autoconfig.DOMAIN, and the domain's own well-known URL.
first = servers(*get("/mail/config-v1.1.xml?emailaddress=alice%40example.test", "autoconfig.example.test", True))
print("\n".join(first))
second = servers(*get("/.well-known/autoconfig/mail/config-v1.1.xml?emailaddress=alice%40example.test", "example.test"))
third = servers(*get("/mail/config-v1.1.xml", "autoconfig.example.test"))
print(first == second == third)
# A domain not hosted here gets nothing.
print(get("/mail/config-v1.1.xml?emailaddress=eve%40elsewhere.test", "autoconfig.elsewhere.test")[0])
print(get("/mail/config-v1.1.xml", "autoconfig.elsewhere.test")[0])
"#
    ));
    assert_eq!(
        out,
        "incomingServer imap mail.example.test 10993 SSL\n\
         incomingServer imap mail.example.test 143 STARTTLS\n\
         incomingServer pop3 mail.example.test 995 SSL\n\
         incomingServer pop3 mail.example.test 110 STARTTLS\n\
         outgoingServer smtp mail.example.test 465 SSL\n\
         outgoingServer smtp mail.example.test 587 STARTTLS\n\
         True\n404\n404\n"
    );
}

#[test]
fn outlook_autodiscover_answers_the_address_in_the_request() {
    let server = Server::with_users(CONFIG);
    let out = server.python(&format!(
        "{FETCH}{}",
        r#"
import xml.etree.ElementTree as ET
REQUEST = """<?xml version="1.0" encoding="utf-8"?>
<Autodiscover xmlns="http://schemas.microsoft.com/exchange/autodiscover/outlook/requestschema/2006">
  <Request>
    <EMailAddress>{}</EMailAddress>
    <AcceptableResponseSchema>http://schemas.microsoft.com/exchange/autodiscover/outlook/responseschema/2006a</AcceptableResponseSchema>
  </Request>
</Autodiscover>"""
ns = {"r": "http://schemas.microsoft.com/exchange/autodiscover/responseschema/2006",
      "a": "http://schemas.microsoft.com/exchange/autodiscover/outlook/responseschema/2006a"}
status, response, body = get("/autodiscover/autodiscover.xml", "autodiscover.example.test", True,
                             REQUEST.format("bob@example.test"))
assert status == 200, (status, body)
root = ET.fromstring(body)
account = root.find("a:Response/a:Account", ns)
print(account.find("a:AccountType", ns).text, account.find("a:Action", ns).text)
for protocol in account.findall("a:Protocol", ns):
    print(*[protocol.find("a:" + name, ns).text
            for name in ("Type", "Server", "Port", "LoginName", "SSL", "Encryption", "AuthRequired")])
status, _, _ = get("/Autodiscover/Autodiscover.xml", "example.test", False, REQUEST.format("eve@elsewhere.test"))
print(status)
# An address with markup in it is escaped in the answer, not obeyed.
status, _, body = get("/autodiscover/autodiscover.xml", "example.test", False, REQUEST.format("a&lt;b@example.test"))
print(status)
"#
    ));
    assert_eq!(
        out,
        "email settings\n\
         IMAP mail.example.test 10993 bob@example.test on SSL on\n\
         SMTP mail.example.test 465 bob@example.test on SSL on\n\
         404\n400\n"
    );
}

#[test]
fn an_apple_profile_is_a_valid_plist_with_a_mail_payload() {
    let server = Server::with_users(CONFIG);
    let out = server.python(&format!(
        "{FETCH}{}",
        r#"
import plistlib
status, response, body = get("/apple/mobileconfig?email=alice%40example.test", "example.test", True)
assert status == 200, (status, body)
print(response.getheader("Content-Type"))
profile = plistlib.loads(body)
print(profile["PayloadType"], profile["PayloadVersion"], profile["PayloadDisplayName"])
[payload] = profile["PayloadContent"]
for key in ("PayloadType", "EmailAccountType", "EmailAddress", "IncomingMailServerHostName",
            "IncomingMailServerPortNumber", "IncomingMailServerUseSSL", "IncomingMailServerUsername",
            "IncomingMailServerAuthentication", "OutgoingMailServerHostName", "OutgoingMailServerPortNumber",
            "OutgoingMailServerUseSSL", "OutgoingMailServerUsername", "OutgoingPasswordSameAsIncomingPassword"):
    print(key, payload[key])
import uuid
uuid.UUID(profile["PayloadUUID"]), uuid.UUID(payload["PayloadUUID"])
# The same address gets the same identifiers (a second install replaces the first).
again = plistlib.loads(get("/apple/mobileconfig?email=alice%40example.test", "example.test", True)[2])
print(again["PayloadUUID"] == profile["PayloadUUID"], profile["PayloadUUID"] != payload["PayloadUUID"])
other = plistlib.loads(get("/apple/mobileconfig?email=bob%40example.test", "example.test", True)[2])
print(other["PayloadUUID"] != profile["PayloadUUID"])
print(get("/apple/mobileconfig?email=eve%40elsewhere.test", "example.test", True)[0],
      get("/apple/mobileconfig", "example.test", True)[0])
"#
    ));
    assert_eq!(
        out,
        "application/x-apple-aspen-config\n\
         Configuration 1 Mail for alice@example.test\n\
         PayloadType com.apple.mail.managed\n\
         EmailAccountType EmailTypeIMAP\n\
         EmailAddress alice@example.test\n\
         IncomingMailServerHostName mail.example.test\n\
         IncomingMailServerPortNumber 10993\n\
         IncomingMailServerUseSSL True\n\
         IncomingMailServerUsername alice@example.test\n\
         IncomingMailServerAuthentication EmailAuthPassword\n\
         OutgoingMailServerHostName mail.example.test\n\
         OutgoingMailServerPortNumber 465\n\
         OutgoingMailServerUseSSL True\n\
         OutgoingMailServerUsername alice@example.test\n\
         OutgoingPasswordSameAsIncomingPassword True\n\
         True True\nTrue\n404 400\n"
    );
}

#[test]
fn the_mta_sts_policy_is_served_for_hosted_domains_only() {
    let server = Server::with_users(CONFIG);
    let out = server.python(&format!(
        "{FETCH}{}",
        r#"
status, response, body = get("/.well-known/mta-sts.txt", "mta-sts.example.test", True)
print(status, response.getheader("Content-Type"))
# RFC 8461 §3.2: CRLF-terminated "key: value" lines.
assert body.endswith(b"\r\n") and b"\n" not in body.replace(b"\r\n", b""), body
for line in body.decode().split("\r\n")[:-1]:
    print(line)
print(get("/.well-known/mta-sts.txt", "mta-sts.elsewhere.test", True)[0],
      get("/.well-known/mta-sts.txt", "example.test", True)[0])
import hashlib
print("id=" + hashlib.sha256(body).hexdigest()[:20])
"#
    ));
    let (out, id) = out.rsplit_once("id=").expect("the policy's hash");
    assert_eq!(
        out,
        "200 text/plain\nversion: STSv1\nmode: enforce\nmx: mx.example.test\nmx: mx2.example.test\nmax_age: 1209600\n404 404\n"
    );
    // The TXT record's id is a hash of the policy served, so it changes
    // exactly when the policy does.
    let zone = server.admin(&["dns", "example.test"]);
    let record = format!("\n_mta-sts.example.test. IN TXT \"v=STSv1; id={}\"\n", id.trim());
    assert!(zone.contains(&record), "{record} not in:\n{zone}");
}
