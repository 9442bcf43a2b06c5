#![cfg_attr(feature = "libfuzzer", no_main)]
postamt_fuzz::target!(smtpd::fuzz::dsn_params);
