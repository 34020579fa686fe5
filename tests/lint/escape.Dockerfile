# escape=`
FROM mcr.microsoft.com/windows/servercore:ltsc2022
SHELL ["powershell", "-Command"]
RUN Get-ChildItem | Select-Object Name
RUN cd C:\ ; `
    dir
WORKDIR C:\\app
CMD powershell -File start.ps1
