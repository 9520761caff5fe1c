// The clang plugin (-fplugin=libautockpt-clang.so): registers the pragma handler and attributes
// (Pragmas.cpp, Attributes.cpp), reports -Wautockpt-* diagnostics from Checks.cpp, and loads the
// pass plugin that lies beside it, so that -fplugin alone instruments (docs/design.md C2).
//
// The diagnostics are custom ones, which clang's -W options do not know: the plugin reads
// -W[no-][error=]autockpt[-NAME] itself, from clang's own warning options (clang then also says
// "unknown warning option") or from -fplugin-arg-autockpt-W..., which the compiler wrappers pass.
#include "Checks.h"
#include "Compat.h"
#include "Plugin.h"

#include "clang/AST/ASTConsumer.h"
#include "clang/Basic/CodeGenOptions.h"
#include "clang/Basic/DiagnosticOptions.h"
#include "clang/Frontend/CompilerInstance.h"
#include "clang/Frontend/FrontendPluginRegistry.h"
#include "clang/Sema/Sema.h"
#include "clang/Sema/SemaConsumer.h"
#include "llvm/Support/FileSystem.h"
#include "llvm/Support/Path.h"

#include <dlfcn.h>
#include <optional>

using namespace clang;

namespace autockpt {

namespace {

enum class Level { Off, Warning, Error };

struct Options {
  Level Levels[kNumWarningKinds] = {Level::Warning, Level::Warning, Level::Warning, Level::Warning,
                                    Level::Warning, Level::Warning, Level::Warning};

  // One -W option, with or without its -W: "no-autockpt-fork", "-Werror=autockpt", ...
  void apply(StringRef W) {
    W.consume_front("-");
    W.consume_front("W");
    bool No = W.consume_front("no-");
    bool Error = W.consume_front("error=");
    if (!W.consume_front("autockpt"))
      return;
    StringRef Name = W.consume_front("-") ? W : "";
    if (!W.empty() && Name.empty())
      return;  // "autockptfoo"
    for (unsigned K = 0; K < kNumWarningKinds; ++K) {
      if (!Name.empty() && Name != kindName(Kind(K)))
        continue;
      Level &L = Levels[K];
      if (Error)
        L = No ? (L == Level::Error ? Level::Warning : L) : Level::Error;
      else
        L = No ? Level::Off : (L == Level::Off ? Level::Warning : L);
    }
  }
};

class Consumer : public SemaConsumer {
 public:
  Consumer(CompilerInstance &CI, const Options &Opts) : CI(CI), Opts(Opts) {}

  void InitializeSema(Sema &S) override { setCurrentSema(&S); }
  void ForgetSema() override { setCurrentSema(nullptr); }

  void HandleTranslationUnit(ASTContext &Ctx) override {
    DiagnosticsEngine &D = CI.getDiagnostics();
    if (D.hasErrorOccurred())
      return;
    unsigned Note = D.getCustomDiagID(DiagnosticsEngine::Note, "%0");
    findAll(Ctx, [&](const Finding &F) {
      if (!isWarning(F.K) || Opts.Levels[unsigned(F.K)] == Level::Off)
        return;
      auto L = Opts.Levels[unsigned(F.K)] == Level::Error ? DiagnosticsEngine::Error
                                                           : DiagnosticsEngine::Warning;
      D.Report(F.Loc, D.getCustomDiagID(L, "%0 [-Wautockpt-%1]")) << F.Message << kindName(F.K);
      D.Report(F.Loc, Note) << F.Hint;
    });
  }

 private:
  CompilerInstance &CI;
  Options Opts;
};

// libautockpt-pass.so beside this plugin (the build tree's lib/ and an installation's lib/).
std::string passPluginBesideUs() {
  Dl_info Info;
  if (!dladdr(reinterpret_cast<void *>(&passPluginBesideUs), &Info) || !Info.dli_fname)
    return "";
  SmallString<256> Path(llvm::sys::path::parent_path(Info.dli_fname));
  llvm::sys::path::append(Path, "libautockpt-pass.so");
  return llvm::sys::fs::exists(Path) ? std::string(Path) : "";
}

class Action : public PluginASTAction {
 protected:
  std::unique_ptr<ASTConsumer> CreateASTConsumer(CompilerInstance &CI, StringRef) override {
    for (const std::string &W : CI.getDiagnosticOpts().Warnings)
      Opts.apply(W);
    for (const std::string &W : Args)
      Opts.apply(W);
    addPassPlugin(CI.getCodeGenOpts(), CI.getDiagnostics());
    return std::make_unique<Consumer>(CI, Opts);
  }

  bool ParseArgs(const CompilerInstance &, const std::vector<std::string> &A) override {
    Args = A;
    return true;
  }

  ActionType getActionType() override { return AddBeforeMainAction; }

 private:
  Options Opts;
  std::vector<std::string> Args;

  // The pass runs only when loaded as a pass plugin; -fpass-plugin may have named it already.
  // Clang 22 loads the -fpass-plugin files before any clang plugin runs, so adding to that list
  // here would be too late: the plugin is loaded here and registered through the callbacks that
  // clang's pass builder calls (both versions).
  static void addPassPlugin(CodeGenOptions &CG, DiagnosticsEngine &D) {
    for (const std::string &P : CG.PassPlugins)
      if (llvm::sys::path::filename(P) == "libautockpt-pass.so")
        return;
    std::string Ours = passPluginBesideUs();
    if (Ours.empty())
      return;
    static std::optional<llvm::PassPlugin> Loaded;
    if (!Loaded) {
      auto P = llvm::PassPlugin::Load(Ours);
      if (!P) {
        D.Report(D.getCustomDiagID(DiagnosticsEngine::Error, "autockpt: cannot load %0: %1"))
            << Ours << llvm::toString(P.takeError());
        return;
      }
      Loaded.emplace(std::move(*P));
    }
    llvm::PassPlugin *P = &*Loaded;
    CG.PassBuilderCallbacks.push_back(
        [P](llvm::PassBuilder &PB) { P->registerPassBuilderCallbacks(PB); });
  }
};

FrontendPluginRegistry::Add<Action> Registered("autockpt",
                                               "autockpt: pragmas, attributes, diagnostics");

}  // namespace

}  // namespace autockpt
