//! SMTP dialogs: each file in `tests/dialogs/*.dialog` is one scenario,
//! replayed as a test of its own against a real session over an in-memory
//! pipe. The session is the unit under test; the store and queue behind it
//! are the small in-memory backend in `support/backend.rs`. The format is
//! described in `support/dialog.rs` and docs/design.md ("## Tests"); the
//! one-test-per-file listing comes from `crates/dialog-runner`.

mod support;

async fn run(name: &str) {
    let text = dialog_runner::script(env!("CARGO_MANIFEST_DIR"), name, "dialog");
    if let Err(failure) = support::dialog::run(&text).await {
        panic!("{name}.dialog: {failure}");
    }
}

// One line per command or topic, in file name order.
dialog_runner::dialogs! { "dialog", run;
    auth_cleartext_refused, auth_failures_count_as_errors, auth_line_too_long, auth_lockout, auth_login,
    auth_login_failures, auth_login_initial, auth_lookup_fails, auth_ordering, auth_plain,
    auth_plain_challenge, auth_plain_failures,
    bdat, bdat_dot_is_data, bdat_large_chunk, bdat_pipelined, bdat_refused_chunk_is_read,
    bdat_storage_full, bdat_syntax, bdat_then_data_or_rcpt, bdat_too_big,
    commands_any_case,
    data, data_8bit, data_after_refusal, data_bare_cr, data_bare_lf, data_binarymime, data_large,
    data_large_too_big, data_no_recipients, data_size_boundary, data_smuggling_variants,
    data_storage_full, data_store_fails, data_too_big, data_too_many_hops,
    dsn_bad_parameters, dsn_stranger_refused, dsn_trusted,
    ehlo, ehlo_resets_transaction, ehlo_without_name,
    envid_bad,
    expn,
    helo,
    help,
    hide_client_ip, hide_client_ip_strangers,
    http_post, http_request,
    line_at_limit, line_too_long,
    mail_before_helo, mail_null_sender, mail_parameters, mail_source_route, mail_syntax, mail_twice,
    noop, noop_keeps_transaction,
    pipelining, pipelining_from_greeting,
    pregreet, pregreet_patient, pregreet_submission,
    quit_ends_pipeline, quit_mid_transaction,
    rcpt_duplicate, rcpt_postmaster, rcpt_remote_postmaster, rcpt_syntax, rcpt_too_many, rcpt_verdicts,
    received_ipv6,
    relay_mx_authenticated_local, relay_mx_authenticated_remote, relay_mx_stranger_local,
    relay_mx_stranger_remote, relay_mx_trusted_local, relay_mx_trusted_remote,
    relay_submission_authenticated_local, relay_submission_authenticated_remote,
    relay_submission_stranger_local, relay_submission_stranger_remote, relay_submission_trusted_local,
    relay_submission_trusted_remote,
    requiretls, requiretls_submission,
    rset, rset_during_bdat,
    smtputf8_addresses,
    starttls, starttls_failed_handshake, starttls_offered, starttls_pipelined, starttls_unavailable,
    submission_ehlo_keeps_auth, submission_fixups, submission_keeps_headers, submission_sender_check,
    submissions_implicit_tls, submissions_plaintext_client,
    timeout, timeout_in_data,
    tls_required_no,
    too_many_errors, too_many_relay_attempts,
    unrecognized_command,
    vrfy,
}
