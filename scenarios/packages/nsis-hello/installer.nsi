; Built with makensis (harness/packages/windows.py).  The seeds' own exe pattern:
;   move .\myApp .\myApp.exe & myApp.exe /S -config myApp_config
; installs hello.txt and, when given, the -config file (as config.txt) under Program Files,
; writes the Uninstall key (DisplayName, DisplayVersion, UninstallString) and an uninstaller.
; vars: target: "x86-unicode" builds a 32-bit installer (amd64-unicode otherwise).
Unicode true
Target {{ target | default("amd64-unicode") }}
!include "FileFunc.nsh"
!include "LogicLib.nsh"
!include "x64.nsh"

!define KEY "Software\Microsoft\Windows\CurrentVersion\Uninstall\VmappNsisHello"
Name "Vmapp NSIS Hello"
OutFile "${OUTFILE}"  ; given by the builder: makensis -DOUTFILE=...
InstallDir "$PROGRAMFILES64\VmappNsisHello"
RequestExecutionLevel admin
SetCompressor /SOLID lzma

Var Config

Function .onInit
  SetRegView 64
  ${GetParameters} $0
  ClearErrors
  ${GetOptions} $0 "-config" $Config
  ${If} ${Errors}
    StrCpy $Config ""
  ${Else}
    StrCpy $1 $Config 1 1
    ${If} $1 != ":"
      StrCpy $Config "$EXEDIR\$Config"  ; the seeds run installers in the download folder
    ${EndIf}
    ${IfNot} ${FileExists} $Config
      SetErrorLevel 2
      Abort "config file $Config not found"
    ${EndIf}
  ${EndIf}
FunctionEnd

Section "Install"
  SetOutPath "$INSTDIR"
  File "hello.txt"
  ${If} $Config != ""
    CopyFiles /SILENT $Config "$INSTDIR\config.txt"
  ${EndIf}
  WriteUninstaller "$INSTDIR\uninstall.exe"
  WriteRegStr HKLM "${KEY}" "DisplayName" "Vmapp NSIS Hello"
  WriteRegStr HKLM "${KEY}" "DisplayVersion" "{{ version }}"
  WriteRegStr HKLM "${KEY}" "Publisher" "vmapp-harness"
  WriteRegStr HKLM "${KEY}" "UninstallString" '"$INSTDIR\uninstall.exe" /S'
SectionEnd

Function un.onInit
  SetRegView 64
FunctionEnd

Section "Uninstall"
  Delete "$INSTDIR\hello.txt"
  Delete "$INSTDIR\config.txt"
  Delete "$INSTDIR\uninstall.exe"
  RMDir "$INSTDIR"
  DeleteRegKey HKLM "${KEY}"
SectionEnd
