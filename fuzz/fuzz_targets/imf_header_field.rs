#![cfg_attr(feature = "libfuzzer", no_main)]
postamt_fuzz::target!(imf::fuzz::header_field);
