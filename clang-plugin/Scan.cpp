// autockpt-scan: the plugin's checks (Checks.cpp) over every translation unit of a compilation
// database (LibTooling), as a report a user reads before the first run: per file and function
// what may limit checkpointing, loops and explicit pragmas, and a one-line verdict.
//   autockpt-scan -p BUILD_DIR [--format=text|json] [FILE...]
#include "Checks.h"

#include "clang/AST/ASTConsumer.h"
#include "clang/AST/Decl.h"
#include "clang/Basic/SourceManager.h"
#include "clang/Frontend/CompilerInstance.h"
#include "clang/Frontend/FrontendAction.h"
#include "clang/Tooling/ArgumentsAdjusters.h"
#include "clang/Tooling/CompilationDatabase.h"
#include "clang/Tooling/Tooling.h"
#include "llvm/Support/FileSystem.h"
#include "llvm/Support/JSON.h"
#include "llvm/Support/raw_ostream.h"

#include <map>
#include <set>
#include <tuple>

using namespace clang;

namespace autockpt {

namespace {

struct Item {
  Kind K;
  unsigned Line, Column;
  std::string What, Message;
};

struct FunctionReport {
  unsigned Line = 0;
  unsigned Loops = 0;
  std::vector<Item> Items;
};

struct FileReport {
  unsigned Lines = 0;
  std::map<std::string, FunctionReport> Functions;  // "" for file scope
};

// A path under the current directory (at start: the tool runs each command in its own
// directory) is shown relative to it.
std::string Cwd;
std::string shown(StringRef Path) {
  return Path.starts_with(Cwd) ? Path.drop_front(Cwd.size()).str() : Path.str();
}

struct Report {
  std::map<std::string, FileReport> Files;
  std::set<std::tuple<std::string, unsigned, unsigned, unsigned>> Seen;  // headers: once
  unsigned Errors = 0;

  void add(const SourceManager &SM, const Finding &F) {
    PresumedLoc P = SM.getPresumedLoc(SM.getExpansionLoc(F.Loc));
    if (P.isInvalid())
      return;
    std::string File = shown(P.getFilename());
    if (!Seen.insert({File, P.getLine(), P.getColumn(), unsigned(F.K)}).second)
      return;
    FileReport &FR = Files[File];
    std::string Fn = F.Function ? F.Function->getQualifiedNameAsString() : "";
    FunctionReport &R = FR.Functions[Fn];
    if (F.K == Kind::Function)
      R.Line = P.getLine();
    else if (F.K == Kind::Loop)
      ++R.Loops;
    else
      R.Items.push_back({F.K, P.getLine(), P.getColumn(), F.What, F.Message});
  }
};

Report TheReport;

class Consumer : public ASTConsumer {
 public:
  void HandleTranslationUnit(ASTContext &Ctx) override {
    const SourceManager &SM = Ctx.getSourceManager();
    findAll(Ctx, [&](const Finding &F) { TheReport.add(SM, F); });
    PresumedLoc P = SM.getPresumedLoc(SM.getLocForStartOfFile(SM.getMainFileID()));
    if (P.isValid())
      TheReport.Files[shown(P.getFilename())].Lines = SM.getBufferData(SM.getMainFileID()).count('\n');
  }
};

struct Action : public ASTFrontendAction {
  std::unique_ptr<ASTConsumer> CreateASTConsumer(CompilerInstance &, StringRef) override {
    return std::make_unique<Consumer>();
  }
};

// What stops or delays checkpoints ("needs attention") and what only deserves a look.
bool needsAttention(Kind K) {
  return K == Kind::Asm || K == Kind::UnsupportedMpi || K == Kind::Mmap ||
         K == Kind::Sockets || K == Kind::Cuda || K == Kind::OpenMPTask || K == Kind::NoSave;
}
bool deservesALook(Kind K) {
  return K == Kind::Setjmp || K == Kind::Fork || K == Kind::SignalHandler || K == Kind::Varargs;
}

std::string verdict(const std::map<Kind, unsigned> &Counts) {
  std::string Attention, Look;
  for (auto &[K, N] : Counts) {
    std::string Part = std::string(kindName(K)) + " (" + std::to_string(N) + ")";
    if (needsAttention(K))
      Attention += (Attention.empty() ? "" : ", ") + Part;
    else if (deservesALook(K))
      Look += (Look.empty() ? "" : ", ") + Part;
  }
  if (!Attention.empty())
    return "needs attention: " + Attention + (Look.empty() ? "" : "; also " + Look);
  if (!Look.empty())
    return "ready with warnings: " + Look;
  return "ready";
}

int usage(int Status) {
  (Status ? llvm::errs() : llvm::outs())
      << "usage: autockpt scan -p BUILD_DIR [--format=text|json] [FILE...]\n"
         "  BUILD_DIR holds compile_commands.json (CMake: -DCMAKE_EXPORT_COMPILE_COMMANDS=ON;\n"
         "  make: bear -- make).  Without FILEs, every file in it is scanned.\n";
  return Status;
}

}  // namespace

}  // namespace autockpt

using namespace autockpt;

int main(int argc, char **argv) {
  SmallString<256> Here;
  llvm::sys::fs::current_path(Here);
  Cwd = std::string(Here) + "/";
  std::string Dir, Format = "text";
  std::vector<std::string> Files;
  for (int K = 1; K < argc; ++K) {
    StringRef A = argv[K];
    if (A == "-p" && K + 1 < argc)
      Dir = argv[++K];
    else if (A.consume_front("-p="))
      Dir = A.str();
    else if (A.consume_front("--format="))
      Format = A.str();
    else if (A == "--help" || A == "-h")
      return usage(0);
    else if (A.starts_with("-"))
      return llvm::errs() << "autockpt scan: unknown option '" << A << "'\n", usage(2);
    else
      Files.push_back(A.str());
  }
  if (Dir.empty() || (Format != "text" && Format != "json"))
    return usage(2);
  std::string Err;
  auto DB = tooling::CompilationDatabase::loadFromDirectory(Dir, Err);
  if (!DB) {
    llvm::errs() << "autockpt scan: no compilation database in '" << Dir << "': " << Err
                 << "\n  make one with cmake -DCMAKE_EXPORT_COMPILE_COMMANDS=ON, or bear -- make\n";
    return 2;
  }
  if (Files.empty())
    Files = DB->getAllFiles();
  tooling::ClangTool Tool(*DB, Files);
  // The project's own plugin flags are for its compiler, not for this tool; the headers of the
  // clang this tool was built with stand in for the compiler's.
  Tool.appendArgumentsAdjuster([](const tooling::CommandLineArguments &In, StringRef) {
    tooling::CommandLineArguments Out;
    for (size_t K = 0; K < In.size(); ++K) {
      StringRef A = In[K];
      if (A.starts_with("-fplugin") || A.starts_with("-fpass-plugin"))
        continue;
      Out.push_back(In[K]);
    }
    Out.push_back("-resource-dir=" AUTOCKPT_CLANG_RESOURCE_DIR);
    Out.push_back("-Wno-everything");
    return Out;
  });
  int Status = Tool.run(tooling::newFrontendActionFactory<Action>().get());

  std::map<Kind, unsigned> Counts;
  unsigned Lines = 0, Functions = 0, Loops = 0;
  for (auto &[File, FR] : TheReport.Files) {
    Lines += FR.Lines;
    for (auto &[Fn, R] : FR.Functions) {
      Functions += !Fn.empty();
      Loops += R.Loops;
      for (const Item &I : R.Items)
        ++Counts[I.K];
    }
  }
  std::string Verdict = verdict(Counts);
  if (Format == "json") {
    llvm::json::Array JFiles;
    for (auto &[File, FR] : TheReport.Files) {
      llvm::json::Array JFns;
      for (auto &[Fn, R] : FR.Functions) {
        llvm::json::Array JItems;
        for (const Item &I : R.Items) {
          llvm::json::Object O{{"kind", kindName(I.K)}, {"what", I.What},
                                {"line", I.Line}, {"column", I.Column}};
          if (!I.Message.empty())
            O["message"] = I.Message;
          JItems.push_back(std::move(O));
        }
        JFns.push_back(llvm::json::Object{{"function", Fn}, {"line", R.Line},
                                          {"loops", R.Loops}, {"findings", std::move(JItems)}});
      }
      JFiles.push_back(llvm::json::Object{{"file", File}, {"lines", FR.Lines},
                                          {"functions", std::move(JFns)}});
    }
    llvm::json::Object JCounts;
    for (auto &[K, N] : Counts)
      JCounts[kindName(K)] = N;
    llvm::json::Object Top{{"files", std::move(JFiles)},
                           {"summary", llvm::json::Object{{"files", TheReport.Files.size()},
                                                          {"lines", Lines},
                                                          {"functions", Functions},
                                                          {"loops", Loops},
                                                          {"counts", std::move(JCounts)}}},
                           {"verdict", Verdict}};
    llvm::outs() << llvm::formatv("{0:2}", llvm::json::Value(std::move(Top))) << "\n";
  } else {
    auto &OS = llvm::outs();
    for (auto &[File, FR] : TheReport.Files) {
      bool Any = false;
      for (auto &[Fn, R] : FR.Functions)
        Any |= !R.Items.empty();
      if (!Any)
        continue;
      OS << File << "\n";
      for (auto &[Fn, R] : FR.Functions) {
        if (R.Items.empty())
          continue;
        OS << "  " << (Fn.empty() ? "(file scope)" : Fn) << " (" << R.Loops << " loop"
           << (R.Loops == 1 ? "" : "s") << ")\n";
        for (const Item &I : R.Items) {
          OS << "    " << I.Line << ":" << I.Column << " " << kindName(I.K) << ": " << I.What;
          if (!I.Message.empty())
            OS << ": " << I.Message;
          OS << "\n";
        }
      }
    }
    OS << "autockpt scan: " << TheReport.Files.size() << " files, " << Lines << " lines, "
       << Functions << " functions, " << Loops << " loops";
    if (Counts.count(Kind::NoPoll) || Counts.count(Kind::SafePoint))
      OS << " (" << Counts[Kind::NoPoll] << " nopoll, " << Counts[Kind::SafePoint]
         << " explicit safe points)";
    OS << "\nverdict: " << Verdict << "\n";
  }
  if (Status != 0)
    llvm::errs() << "autockpt scan: some files could not be parsed (see above); the report "
                    "covers the rest\n";
  return Status == 0 ? 0 : 1;
}
