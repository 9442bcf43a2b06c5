//! The web listener end to end, with Python's http.client as the client:
//! the health check over HTTP and HTTPS, and what a bad request gets.

mod common;

use common::Server;

#[test]
fn health_answers_over_http_and_https() {
    let server = Server::start("");
    let out = server.python(
        r#"
import http.client, os, ssl
for connection in (
    http.client.HTTPConnection("127.0.0.1", int(os.environ["HTTP_PORT"]), timeout=10),
    http.client.HTTPSConnection("127.0.0.1", int(os.environ["HTTPS_PORT"]), timeout=10,
                                context=ssl._create_unverified_context()),
):
    connection.request("GET", "/health")
    response = connection.getresponse()
    print(response.status, response.read().decode().strip())
"#,
    );
    assert_eq!(out, "200 ok\n200 ok\n");
}

#[test]
fn unknown_pages_and_bad_requests_get_their_status() {
    let server = Server::start("");
    let out = server.python(
        r#"
import os, socket
def ask(raw):
    s = socket.create_connection(("127.0.0.1", int(os.environ["HTTP_PORT"])), timeout=10)
    s.sendall(raw)
    answer = b""
    while chunk := s.recv(4096):
        answer += chunk
    print(answer.split(b"\r\n")[0].decode())
ask(b"GET /nothing-here HTTP/1.1\r\nHost: x\r\n\r\n")
ask(b"POST /health HTTP/1.1\r\nHost: x\r\nContent-Length: 0\r\n\r\n")
# HEAD: the head a GET gets, with its length, and nothing after it.
s = socket.create_connection(("127.0.0.1", int(os.environ["HTTP_PORT"])), timeout=10)
s.sendall(b"HEAD /health HTTP/1.1\r\nHost: x\r\n\r\n")
answer = b""
while chunk := s.recv(4096):
    answer += chunk
print(answer.split(b"\r\n")[0].decode(), answer.endswith(b"Content-Length: 3\r\nConnection: close\r\n\r\n"))
ask(b"this is not http\r\n\r\n")
# A head longer than the limit is cut off, not buffered.
ask(b"GET / HTTP/1.1\r\n" + b"X-Filler: " + b"a" * 40000 + b"\r\n\r\n")
"#,
    );
    assert_eq!(
        out,
        "HTTP/1.1 404 Not Found\nHTTP/1.1 405 Method Not Allowed\nHTTP/1.1 200 OK True\nHTTP/1.1 400 Bad Request\nHTTP/1.1 431 Request Header Fields Too Large\n"
    );
}
