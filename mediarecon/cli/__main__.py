from mediarecon.cli import main

main()
