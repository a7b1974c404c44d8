fx_version 'cerulean'
game 'gta5'

name 'sonoran-911'
description '/911 in game becomes a Sonoran CAD dispatch call'
version '0.1.0'

-- Node 22 gives the server a global fetch and runs Node callbacks on the main thread.
node_version '22'
dependencies {
  '/server:12913',
  '/onesync',
}

server_script 'dist/server.js'
client_script 'dist/client.js'

-- Nothing else is listed in files{}: every file there is downloaded by every player,
-- and the server configuration may hold the API key.
