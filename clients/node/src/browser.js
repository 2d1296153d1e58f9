// What a bundler targeting browsers gets for "@ringnity/server-api": a loud
// failure at import time, because a server API key must never reach a browser.
throw new Error('@ringnity/server-api runs only on your backend: a server API key must never '
  + 'reach a browser. Have the browser ask your backend for a short-lived SDK token instead.');
