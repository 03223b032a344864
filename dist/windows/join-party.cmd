@echo off
rem softlan-vpn: join a LAN party. Fill in what the party's host sent you,
rem save, then right-click this file and choose "Run as administrator".
set RELAY=relay.example.org
set ROOM=LAN1
rem Only when the host sent a certificate file (relay-cert.der next to
rem this file) and a server name:
set PIN=
set SERVER_NAME=

rem "Run as administrator" starts in C:\Windows\System32: work from here,
rem where the identity file and the certificate file are kept.
cd /d "%~dp0"
set EXTRA=
if not "%PIN%"=="" set EXTRA=--relay-ca-cert "%PIN%"
if not "%SERVER_NAME%"=="" set EXTRA=%EXTRA% --server-name %SERVER_NAME%
lanparty-client-win.exe --relay %RELAY% --room %ROOM% %EXTRA%
echo.
echo lanparty-client-win.exe ended with exit code %ERRORLEVEL%.
pause
