package dit

// Serve is serve for the external tests (package dit_test).
var Serve = serve
